"""`feedbacklab bench face-landmarks`: the learning-to-fit paper's Table 7 (V2V of the face region and of the whole
head and the 3D landmark error, each absolute and Procrustes-aligned) of the optimizers and the learned fitters
of --solvers on the same synthetic test faces, a learned fitter read from --checkpoint-dir (skipped with a note
on stderr where its checkpoint is missing); and the time per iteration of LM and lf on the whole batch.
`feedbacklab train face-landmarks --solver lf|lgd`: engine.learn.fitter_commands."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import torch

from ...cli_support import SEED_NUMBER, add_output_argument, add_solver_arguments, bench_setup, write_results
from ...compare import TIMING_OPTIONS, iteration_ms
from ...learn.fitter_training import MakeSet
from ...learn.solver import ASSETS
from ...summary import summarize_trace
from ...trace import Trace
from ..registry import get_problem
from ..spec import add_config_arguments, config_to_dict
from .problem import FaceLandmarksConfig
from .solvers import TRAINED, fitter

NAME = "face-landmarks"
BENCH_SOLVERS = "lm,lbfgs,lf,lgd"
TIMED = ("lm", "lf")
COLUMNS = (("v2v_face_mm", "V2V face"), ("v2v_head_mm", "V2V head"), ("landmark_mm", "LdmkErr"))
"""Table 7's metrics, each shown absolute ('-') and Procrustes-aligned ('PA')."""


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=100, help="test problems (synthetic faces of --split, one batch)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the ground truths")
    parser.add_argument("--checkpoint-dir", default=os.path.join(ASSETS, "checkpoints"),
                        help=f"where the learned fitters of --solvers ({', '.join(TRAINED)}) are, as "
                             f"{NAME}-KIND.safetensors (default: the shipped ones)")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_config_arguments(parser, FaceLandmarksConfig)
    add_solver_arguments(parser, get_problem(NAME), BENCH_SOLVERS)


def _split(text: str) -> tuple[str, tuple[str, ...]]:
    """--solvers as the optimizers (and shipped solvers) of the spec and the learned fitters of --checkpoint-dir."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    optimizers = ",".join(name for name in names if name not in TRAINED)
    if not optimizers:
        raise ValueError(f"--solvers {text!r} names no optimizer; add lm")
    return optimizers, tuple(name for name in names if name in TRAINED)


def _fitters(kinds: tuple[str, ...], folder: str, options: dict[str, Any]) -> dict[str, Any]:
    """The learned fitters of these kinds, read from the folder; a kind whose checkpoint is not there is skipped
    with a note on stderr."""
    found = {}
    for kind in kinds:
        path = os.path.join(folder, f"{NAME}-{kind}.safetensors")
        if os.path.isfile(path):
            found[kind] = fitter(NAME, get_problem(NAME).parameters, kind, path, **options)
        else:
            print(f"{NAME}: no checkpoint {path} for {kind}; skipped (train one with `feedbacklab train {NAME} "
                  f"--solver {kind}`)", file=sys.stderr)
    return found


def table_7(summaries: dict[str, dict[str, float]]) -> str:
    """Table 7's shape: per metric, the absolute ('-') and the Procrustes-aligned ('PA') mean in mm."""
    headers = [f"{label} {kind}" for _, label in COLUMNS for kind in ("-", "PA")]
    lines = ["| Method | " + " | ".join(headers) + " |", "|---" * (len(headers) + 1) + "|"]
    for name, summary in summaries.items():
        cells = [f"{summary[f'{prefix}{key}_mean']:.1f}" for key, _ in COLUMNS for prefix in ("", "pa_")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench_face_landmarks(args: argparse.Namespace) -> int:
    optimizers, learned = _split(args.solvers)
    spec, names, options, config, device = bench_setup(argparse.Namespace(**{**vars(args), "solvers": optimizers}),
                                                       NAME)
    problem = spec.make(config, {}, device, args.n)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed))
    observation = problem.forward(truth)
    solvers = {name: spec.make_solver(name, **options) for name in names}
    solvers.update(_fitters(learned, args.checkpoint_dir, {k: v for k, v in options.items() if k != "checkpoint"}))
    summaries = {}
    for name, solver in solvers.items():
        trace = Trace.collect(name, solver.iterate(problem, observation, problem.initial_estimate(), truth))
        summaries[name] = summarize_trace(spec, trace)
        print(f"{name}: done, {trace.elapsed[-1]:.1f} s", file=sys.stderr)
    timed = {name: iteration_ms(spec.make_solver(name, **{**options, **TIMING_OPTIONS}) if name == "lm"
                                else solvers[name], problem, observation)
             for name in TIMED if name in solvers}
    label = (f"{args.n} test faces ({config.split} split, seed {args.seed}; {config.image_width}x{config.image_height} "
             f"image, focal {config.focal_px:g} px, landmark noise {config.noise_px:g} px)")
    results = {"problem": NAME, "device": str(device), "torch_threads": torch.get_num_threads(), "set": label,
               "config": config_to_dict(config), "solvers": summaries, "iteration_ms": timed}
    if not args.json:
        print(f"\n{NAME}: {label}, device {device}\n")
        print("Table 7: V2V (mm) of the face region and of the whole head, 3D landmark error (LdmkErr, mm); -: "
              "absolute, PA: after Procrustes alignment\n")
        print(table_7(summaries))
        print(f"\nTime per iteration of the batch of {args.n}, one run (ms): "
              + ", ".join(f"{name} {ms:.1f}" for name, ms in timed.items()))
    write_results(args, results)
    return 0


def training() -> tuple[MakeSet, dict[str, Any]]:
    """The training set's maker and its description, for the train command."""
    from .training import make_set, training_meta

    return make_set, training_meta()
