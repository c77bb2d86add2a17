"""`feedbacklab train robust-mean`: learn sigma through the minimum (the paper's Fig. 2), damped or not; and
`feedbacklab bench robust-mean`: both derivatives over many seeds, with the closed-form and untrained baselines
and the best fixed sigma of a grid on the same held-out problems."""
from __future__ import annotations

import argparse
import math
import sys
from typing import Any

import numpy as np
import torch

from ...cli_support import add_force_argument, add_output_argument, tables_unless_json, whole_number, write_results
from ...bounds import integer
from ...learn.energy_training import EnergyTrainingRun, train_energy
from .problem import RobustMeanConfig
from ..spec import add_config_arguments, config_from_arguments

DAMPINGS = (0.1, 0.0)
"""The paper's trust-region lambda and the undamped derivative of Samuel and Tappen."""
COLLAPSED = 0.25
"""A learned sigma below this fraction of the inliers' deviation counts as diverged (collapsed): each RBF then
covers little more than its own sample, and the minimum is any sample. (Chosen after seeing the undamped runs
end at sigma 0.1 to 0.9.)"""
EXPLODED = 1000.0
"""... and one above this many times the range (the energy is then one bowl over every sample: their mean)."""
GRID = (1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 60.0)
SEEDS = whole_number(integer(1, 1000))


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import RobustMeanTrainConfig

    add_config_arguments(parser, RobustMeanTrainConfig)
    add_output_argument(parser, "--out", (".safetensors",), "write the learned sigma (default: nothing written)")


def train_robust_mean(args: argparse.Namespace) -> int:
    from .training import RobustMeanTask, RobustMeanTrainConfig

    config = config_from_arguments(RobustMeanTrainConfig, args)
    task = RobustMeanTask(config)
    run = train_energy(task, args.out, log=lambda message: print(message, file=sys.stderr),
                       log_every=max(1, config.steps // 10))
    print(describe_run(config.damping, config.seed, run, task.data))
    return 0


def describe_run(damping: float, seed: int, run: EnergyTrainingRun, data: RobustMeanConfig) -> str:
    """One line: where sigma went, the held-out error, the largest gradient norm, divergence."""
    start = math.exp(float(run.history[0].weights["log_sigma"]))
    sigma, error = run.meta["validation"]["sigma"], run.meta["validation"]["squared_error"]
    verdict = "diverged" if diverged(run, data) else "did not diverge"
    return (f"lambda {damping:g}, seed {seed}: {verdict}; sigma {start:.4g} -> "
            f"{sigma:.4g}; held-out squared error {error:.4g}; largest |dL/dlog sigma| "
            f"{run.largest_gradient_norm:.4g}; {run.meta['skipped_steps']} steps skipped (non-finite gradient)")


def diverged(run: EnergyTrainingRun, data: RobustMeanConfig) -> bool:
    """Non-finite weights, or a sigma collapsed onto single samples or exploded beyond the data (COLLAPSED)."""
    sigma = run.meta["validation"]["sigma"]
    return run.meta["diverged_at"] is not None or not (COLLAPSED * data.inlier_std <= sigma <= EXPLODED * data.range)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import RobustMeanTrainConfig

    parser.add_argument("--seeds", type=SEEDS, default=20, help="training runs per lambda, seeds 0, 1, ...")
    add_config_arguments(parser, RobustMeanTrainConfig, exclude=("damping", "seed"))
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_force_argument(parser)


def bench_robust_mean(args: argparse.Namespace) -> int:
    from .problem import UNTRAINED_SIGMA
    from .training import VALIDATION_SEED, RobustMeanTask, RobustMeanTrainConfig, validation_error

    show = tables_unless_json(args)
    base = config_from_arguments(RobustMeanTrainConfig, args)
    task = RobustMeanTask(base)
    results: dict[str, Any] = {"problem": "robust-mean", "settings": vars(base) | {"seeds": args.seeds},
                               "torch_threads": torch.get_num_threads(), "lambdas": {}, "baselines": {}}
    held_out = task.draw(base.validation_problems, VALIDATION_SEED, torch.tensor(math.log(UNTRAINED_SIGMA)))
    for name, statistic in (("mean", held_out.samples.mean(1, keepdim=True)),
                            ("median", held_out.samples.median(1, keepdim=True).values)):
        results["baselines"][name] = float((statistic - held_out.truth).square().mean())
    results["baselines"][f"untrained energy (sigma {UNTRAINED_SIGMA:g})"] = validation_error(
        task, torch.tensor(math.log(UNTRAINED_SIGMA)))
    results["grid"] = {f"{sigma:g}": validation_error(task, torch.tensor(math.log(sigma))) for sigma in GRID}
    for damping in DAMPINGS:
        runs = []
        for seed in range(args.seeds):
            config = RobustMeanTrainConfig(**{**vars(base), "damping": damping, "seed": seed})
            run = train_energy(RobustMeanTask(config), None, log=lambda message: None, log_every=0)
            runs.append({"seed": seed, "sigma": run.meta["validation"]["sigma"],
                         "squared_error": run.meta["validation"]["squared_error"],
                         "largest_gradient_norm": run.largest_gradient_norm, "diverged": diverged(run, task.data),
                         "seconds": run.meta["seconds"]})
            print(f"lambda {damping:g} seed {seed}: sigma {runs[-1]['sigma']:.4g}, error "
                  f"{runs[-1]['squared_error']:.4g}, largest gradient {runs[-1]['largest_gradient_norm']:.4g}",
                  file=sys.stderr)
        results["lambdas"][f"{damping:g}"] = {"runs": runs, **_aggregate(runs)}
    show(_tables(results))
    write_results(args, results)
    return 0


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    kept = [run for run in runs if not run["diverged"]]
    errors = np.array([run["squared_error"] for run in kept], dtype=np.float64)
    return {"diverged": sum(run["diverged"] for run in runs),
            "error_mean": float(errors.mean()) if len(errors) else float("nan"),
            "error_median": float(np.median(errors)) if len(errors) else float("nan"),
            "sigma_median": float(np.median([run["sigma"] for run in runs])),
            "largest_gradient_norm": max(run["largest_gradient_norm"] for run in runs)}


def _tables(results: dict[str, Any]) -> str:
    settings = results["settings"]
    lines = [f"Learning sigma through the minimum: {settings['seeds']} seeds per lambda, {settings['steps']} SGD steps "
             f"(lr {settings['learning_rate']:g}, momentum {settings['momentum']:g}, batch {settings['batch_size']}), "
             f"from sigma {settings['untrained_sigma']:g}; squared error of the minimum to the true mean on "
             f"{settings['validation_problems']} held-out problems; diverged: non-finite, or sigma below "
             f"{COLLAPSED:g} x the inliers' deviation (collapsed onto single samples) or above {EXPLODED:g} x the "
             "range; the errors are over the runs that did not diverge.", "",
             "| lambda | diverged | error mean | error median | sigma median | largest dL/dlog sigma |",
             "|---|---|---|---|---|---|"]
    for damping, row in results["lambdas"].items():
        lines.append(f"| {damping} | {row['diverged']} / {len(row['runs'])} | {row['error_mean']:.1f} | "
                     f"{row['error_median']:.1f} | {row['sigma_median']:.3g} | {row['largest_gradient_norm']:.3g} |")
    lines += ["", "Baselines on the same problems (squared error):", "", "| estimate | error |", "|---|---|"]
    lines += [f"| {name} | {error:.1f} |" for name, error in results["baselines"].items()]
    best = min(results["grid"], key=lambda sigma: results["grid"][sigma])
    lines += [f"| best fixed sigma of the grid {', '.join(results['grid'])} (sigma {best}) | "
              f"{results['grid'][best]:.1f} |"]
    return "\n".join(lines)


ARGMIN_DIMENSIONS = (8, 64, 512)
"""Synthetic energies' dimensions for `bench argmin` (full Hessians up to 64, as the layer's 'auto')."""


def add_argmin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=whole_number(integer(1, 100_000)), default=256, help="problems per batch")
    parser.add_argument("--repeats", type=whole_number(integer(1, 1000)), default=7, help="timings per case (median)")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")


def bench_argmin(args: argparse.Namespace) -> int:
    from ...learn.argmin import ArgminSettings
    from ...learn.argmin_bench import smooth_energy, time_layer
    from .problem import RobustMeanConfig, RobustMeanProblem, rbf_energy
    from .solvers import energy_minimum

    show = tables_unless_json(args)
    cases = []
    log_sigma = torch.tensor(math.log(12.0), requires_grad=True)
    problem = RobustMeanProblem.draw(RobustMeanConfig(), args.batch, log_sigma.detach())
    samples = problem.forward(problem.sample_ground_truth(torch.Generator().manual_seed(0)))
    minimum = energy_minimum(problem, samples)
    cases.append(("robust-mean (D = 1)", "full", time_layer(lambda y, ws: rbf_energy(y, samples, ws[0]), minimum,
                                                            [log_sigma], ArgminSettings(hessian="full"),
                                                            args.repeats)))
    for dimension in ARGMIN_DIMENSIONS:
        energy, y, weights = smooth_energy(dimension, args.batch)
        for hessian in ("full", "hvp") if dimension <= 64 else ("hvp",):
            cases.append((f"smooth (D = {dimension})", hessian,
                          time_layer(energy, y, weights, ArgminSettings(hessian=hessian), args.repeats)))
    results = {"batch": args.batch, "torch_threads": torch.get_num_threads(),
               "cases": [{"energy": name, "hessian": hessian, **timing} for name, hessian, timing in cases]}
    lines = [f"The argmin layer on a batch of {args.batch} (lambda 0.1; median of {args.repeats}; "
             f"{torch.get_num_threads()} threads):", "",
             "| energy | Hessian | finishing Newton step (ms) | forward (ms) | backward (ms) | backward / Newton step |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {hessian} | {t['newton_step_ms']:.2f} | {t['forward_ms']:.2f} | {t['backward_ms']:.2f} | "
              f"{t['ratio']:.2f} |" for name, hessian, t in cases]
    show("\n".join(lines))
    write_results(args, results)
    return 0
