"""`feedbacklab bench body-hmd`: the learning-to-fit paper's Table 2 (V2V of the whole body, the head and the
hands, the joint error and the ground penetration of every solver, on the same bodies seen with full and with
half-space visibility), the ablations' table on half-space visibility when --solvers has lf (Tables 3-6: lf
against lf-shared, lf-resnet, lf-1gru, lf-network and lf-constant, those whose checkpoints exist; a missing one is
skipped with a note on stderr), Fig. 4's curve (the metrics after each step of the learned fitters), and Table 2's
shape again on windows of real motion (sequences.py) for lbfgs-temporal beside lbfgs-prior and lf.
`feedbacklab train body-hmd --solver KIND`: engine.learn.fitter_commands."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import Any

import torch

from ...cli_support import SEED_NUMBER, add_output_argument, add_solver_arguments, bench_setup, write_results
from ...compare import run_comparison
from ...learn.fitter_training import MakeSet
from ...learn.solver import ASSETS
from ...summary import errors_after_steps, steps_caption, steps_table, summarize_trace
from ..registry import get_problem
from ..spec import add_config_arguments, config_to_dict, replace_config
from .problem import VISIBILITY, BodyHmdConfig
from .sequences import SEQUENCE_HZ, sequence_batch
from .solvers import ABLATIONS
from .temporal import WINDOW

NAME = "body-hmd"
BENCH_SOLVERS = "lbfgs-prior,regression,lf"
COLUMNS = (("v2v_mm", "FB"), ("v2v_head_mm", "Head"), ("v2v_left_hand_mm", "L"), ("v2v_right_hand_mm", "R"),
           ("joint_error_mm", "JntErr"), ("penetration_mm", "GrPe."))
"""Table 2's columns: metric key and header."""
SHORT = {"full": "F", "half-space": "H"}


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100, help="test problems (ground truths of --split, one batch)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the ground truths")
    parser.add_argument("--sequence-windows", type=int, default=12,
                        help=f"windows of {WINDOW} frames of CMU motion for the temporal baseline's table (0: none)")
    parser.add_argument("--checkpoint-dir", default=os.path.join(ASSETS, "checkpoints"),
                        help="where the learned fitters' checkpoints body-hmd-KIND.safetensors are (default: the "
                             "shipped ones); --checkpoint, when given, is lf's and regression's")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_config_arguments(parser, BodyHmdConfig, exclude=("visibility",))
    add_solver_arguments(parser, get_problem(NAME), BENCH_SOLVERS)


def _checkpoint(args: argparse.Namespace, name: str) -> str | None:
    """The checkpoint a learned solver reads in the bench (None for the others), or '' where it is missing."""
    kind = "lf" if name == "regression" else name
    if kind not in ("lf",) + ABLATIONS:
        return None
    if kind == "lf" and args.checkpoint:
        return args.checkpoint
    path = os.path.join(args.checkpoint_dir, f"{NAME}-{kind}.safetensors")
    if os.path.isfile(path):
        return path
    print(f"{NAME}: no checkpoint {path} for {name}; skipped (train one with `feedbacklab train {NAME} --solver "
          f"{kind}`)", file=sys.stderr)
    return ""


def _run(spec: Any, problem: Any, observation: torch.Tensor, truth: torch.Tensor, names: list[str],
         options: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Each solver's trace on the batch, those without a checkpoint left out."""
    traces = {}
    for name in names:
        checkpoint = _checkpoint(args, name)
        if checkpoint == "":
            continue
        settings = {**options, **({"checkpoint": checkpoint} if checkpoint else {})}
        entry = name if name in spec.solver_names().split(", ") else "lf"  # an ablation not shipped runs as lf
        traces[name] = run_comparison(spec, problem, observation, [entry], ground_truth=truth, keep_predictions=False,
                                      solver_options=settings).traces[entry]
        print(f"{name} ({problem.config.visibility}): done, {traces[name].elapsed[-1]:.1f} s", file=sys.stderr)
    return traces


def _summaries(spec: Any, traces: dict[str, Any]) -> dict[str, dict[str, float]]:
    summaries = {}
    for name, trace in traces.items():
        summaries[name] = summarize_trace(spec, trace)
        summaries[name]["ms_per_frame"] = 1000 * summaries[name]["seconds_per_solve"]
    return summaries


def _cell(summary: dict[str, float] | None, key: str) -> str:
    return "-" if summary is None or f"{key}_mean" not in summary else f"{summary[f'{key}_mean']:.1f}"


def table_2(tables: dict[str, dict[str, dict[str, float]]]) -> str:
    """Table 2's shape: per metric, full (F) and half-space (H) visibility side by side; hands as L / R."""
    headers, keys = [], []
    for key, header in COLUMNS:
        if header == "R":
            continue
        label = "L / R" if header == "L" else header
        for visibility in VISIBILITY:
            headers.append(f"{label} {SHORT[visibility]}")
            keys.append((key, visibility))
    headers += [f"ms / frame {SHORT[v]}" for v in VISIBILITY]
    lines = ["| Method | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
    for name in dict.fromkeys(n for table in tables.values() for n in table):
        cells = []
        for key, visibility in keys:
            summary = tables[visibility].get(name)
            cell = _cell(summary, key)
            cells.append(f"{cell} / {_cell(summary, 'v2v_right_hand_mm')}" if key == "v2v_left_hand_mm" else cell)
        cells += [f"{tables[v][name]['ms_per_frame']:.1f}" if name in tables[v] else "-" for v in VISIBILITY]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ablation_table(summaries: dict[str, dict[str, float]]) -> str:
    """Tables 3-6's shape (half-space): V2V FB, H, L / R, JntErr, GrPe."""
    lines = ["| Fitter | V2V FB | V2V H | V2V L / R | JntErr | GrPe. |", "|---" * 6 + "|"]
    for name, summary in summaries.items():
        cells = [_cell(summary, key) for key, _ in COLUMNS]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]} / {cells[3]} | {cells[4]} | {cells[5]} |")
    return "\n".join(lines)


def _sequence_tables(spec: Any, config: BodyHmdConfig, device: Any, names: list[str], options: dict[str, Any],
                     args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """Per visibility, lbfgs-prior, lbfgs-temporal and (when --solvers has it) lf on --sequence-windows windows of
    real motion; {} when there are none or the clips are missing (a note on stderr)."""
    if args.sequence_windows == 0:
        return {}
    generator = torch.Generator().manual_seed(args.seed)
    try:
        problem, truth = sequence_batch(spec.make(config, {}, device, args.sequence_windows * WINDOW), WINDOW,
                                        generator)
    except ValueError as error:
        print(f"{NAME}: {error}; the sequence table is skipped", file=sys.stderr)
        return {}
    solvers = ["lbfgs-prior", "lbfgs-temporal"] + [name for name in names if name == "lf"]
    tables = {}
    for visibility in VISIBILITY:
        seen = replace(problem, config=replace_config(config, {"visibility": visibility}))
        tables[visibility] = _summaries(spec, _run(spec, seen, seen.forward(truth), truth, solvers, options, args))
    return tables


def bench_body_hmd(args: argparse.Namespace) -> int:
    spec, names, options, config, device = bench_setup(args, NAME)
    if args.sequence_windows < 0:
        raise ValueError(f"--sequence-windows must be 0 or more, got {args.sequence_windows}")
    truth = spec.make(config, {}, device, args.n).sample_ground_truth(torch.Generator().manual_seed(args.seed))
    tables, curves, ablations = {}, {}, {}
    for visibility in VISIBILITY:
        problem = spec.make(replace_config(config, {"visibility": visibility}), {}, device, args.n)
        observation = problem.forward(truth)
        traces = _run(spec, problem, observation, truth, names, options, args)
        tables[visibility] = _summaries(spec, traces)
        curves[visibility] = {name: errors_after_steps(spec, trace, tuple(range(trace.num_iterations)))
                              for name, trace in traces.items()
                              if spec.solver(name).kind == "learned" and name != "regression"}  # lf's step 1
        if visibility == "half-space" and "lf" in names:
            extra = _run(spec, problem, observation, truth, [k for k in ABLATIONS if k not in traces], options, args)
            ablations = _summaries(spec, {**{k: traces[k] for k in ("lf",) if k in traces}, **extra})
    sequences = _sequence_tables(spec, config, device, names, options, args)
    label = (f"{args.n} test problems ({config.split} split, seed {args.seed}; the same bodies seen with full and "
             f"half-space visibility; sensor noise {config.noise_mm:g} mm, {config.noise_deg:g} deg)")
    results = {"problem": NAME, "device": str(device), "torch_threads": torch.get_num_threads(), "set": label,
               "config": {k: v for k, v in config_to_dict(config).items() if k != "visibility"},
               "visibility": tables, "ablations": ablations, "errors_after_steps": curves,
               "sequences": {"set": f"{args.sequence_windows} windows of {WINDOW} frames of the CMU clips at "
                                    f"{SEQUENCE_HZ} Hz (seed {args.seed})", "visibility": sequences}}
    if not args.json:
        print(f"\n{NAME}: {label}, device {device}\n")
        print("Table 2: V2V (mm) of the full body (FB), head (H) and hands (L / R), joint error (JntErr, mm) and "
              "ground penetration (GrPe., mm); F: full visibility, H: half-space\n")
        print(table_2(tables))
        if len(ablations) > 1:
            print("\nAblations, half-space visibility (Tables 3-6)\n")
            print(ablation_table(ablations))
        if sequences:
            print(f"\nTable 2 on motion: {results['sequences']['set']}, walking in place; lbfgs-temporal optimises "
                  "each window's frames together\n")
            print(table_2(sequences))
        for visibility, per_step in curves.items():
            if per_step:
                print(f"\nMetrics after each step, Fig. 4, {visibility} visibility ({steps_caption(spec)}; step 1: "
                      "the initialiser):\n")
                print(steps_table(spec, per_step))
    write_results(args, results)
    return 0


def training() -> tuple[MakeSet, dict[str, Any]]:
    """The training set's maker and its description, for the train command."""
    from .training import make_set, training_meta

    return make_set, training_meta()
