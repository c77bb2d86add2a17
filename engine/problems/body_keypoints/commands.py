"""`feedbacklab train body-keypoints --solver lf|lgd|lgd-eq1|...` (the learned fitters, by the shared trainer) and
`feedbacklab bench body-keypoints`: the learning-to-fit paper's Table 1 (PA-MPJPE and the other metrics of every
solver on the same test problems), the time per frame, LM's time per iteration of the batch, and Fig. 4's
curve (the metrics after each iteration of the learned fitters)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from ...cli_support import SEED_NUMBER, add_output_argument, add_solver_arguments, bench_setup, write_results
from ...compare import TIMING_OPTIONS, iteration_ms, run_comparison
from ...learn.fitter_training import MakeSet
from ...solvers.generic import GENERIC_SOLVERS
from ...summary import (
    batch_time_line, errors_after_steps, markdown_table, speedups, steps_caption, steps_table, summarize,
)
from ..registry import get_problem
from ..spec import add_config_arguments, config_to_dict

NAME = "body-keypoints"
BENCH_SOLVERS = "lm,lbfgs,regression,lgd,lgd-eq1,lf,lf+lm"
LEARNED = ("regression", "lgd", "lgd-eq1", "lf", "lf+lm")


def solver_step_ms(spec, problem, observation: torch.Tensor, name: str, options: dict) -> float:
    """ms per iteration of the solver alone on the whole batch (engine.compare.iteration_ms; the table's times
    include the V2V and MPJPE metrics of every record)."""
    return iteration_ms(spec.make_solver(name, **{**options, **TIMING_OPTIONS}), problem, observation)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .problem import BodyKeypointsConfig

    parser.add_argument("--n", type=int, default=100, help="test problems (ground truths of --split, one batch)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the ground truths")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_config_arguments(parser, BodyKeypointsConfig)
    add_solver_arguments(parser, get_problem(NAME), BENCH_SOLVERS)


def bench_body_keypoints(args: argparse.Namespace) -> int:
    spec, names, options, config, device = bench_setup(args, NAME)
    problem = spec.make(config, {}, device, args.n)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed))
    comparison = run_comparison(
        spec, problem, problem.forward(truth), names, ground_truth=truth, keep_predictions=False,
        solver_options=options,
        on_solver_done=lambda name, trace: print(f"{name}: done, {trace.elapsed[-1]:.1f} s", file=sys.stderr))
    summaries = summarize(spec, comparison)
    for name, trace in comparison.traces.items():
        summaries[name]["ms_per_iteration"] = 1000 * float(trace.elapsed[-1]) / max(trace.num_iterations - 1, 1)
        summaries[name]["ms_per_frame"] = 1000 * summaries[name]["seconds_per_solve"]
    curves = {name: errors_after_steps(spec, trace, tuple(range(trace.num_iterations)))
              for name, trace in comparison.traces.items() if name in LEARNED and "+" not in name}
    step_ms = {name: solver_step_ms(spec, problem, problem.forward(truth), name, options)
               for name in names if name in GENERIC_SOLVERS}
    label = (f"{args.n} test problems ({config.split} split, seed {args.seed}; detector: {config.noise_px:g} px noise, "
             f"{100 * config.outlier_rate:g}% outliers, {100 * config.drop_rate:g}% dropped)")
    results = {"problem": NAME, "device": str(device), "torch_threads": torch.get_num_threads(), "set": label,
               "config": config_to_dict(config), "solvers": summaries,
               "errors_after_steps": curves, "step_ms_without_metrics": step_ms}
    if not args.json:
        print(f"\n{NAME}: {label}, device {device}\n")
        print(markdown_table(spec, summaries))
        print("\n" + batch_time_line(summaries, args.n))
        print(f"An optimizer's own iteration for the batch of {args.n}, without the ground-truth metrics (ms): "
              + ", ".join(f"{name} {ms:.1f}" for name, ms in step_ms.items()))
        print("Time per frame, its share of the batch (ms): " + ", ".join(
            f"{name} {s['ms_per_frame']:.2f}" for name, s in summaries.items()))
        print(speedups(summaries, [n for n in summaries if n in LEARNED], [n for n in summaries if n in GENERIC_SOLVERS]))
        if curves:
            print(f"\nMetrics after each step, Fig. 4 ({steps_caption(spec)}; step 1: the initialiser):\n")
            print(steps_table(spec, curves))
    write_results(args, results)
    return 0


def training() -> tuple[MakeSet, dict[str, Any]]:
    """The training set's maker and its description, for the train command."""
    from .training import make_set, training_meta

    return make_set, training_meta()
