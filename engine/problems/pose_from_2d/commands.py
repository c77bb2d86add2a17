"""`feedbacklab bench pose-from-2d`: Table 2's shape, the MPJPE (mm) of the untrained and the learned energies'
minima, monocular and with four cameras, by motion category; and `feedbacklab train pose-from-2d`, which learns
the energy's weights through its minima and writes them.

Columns: the test sources of data.py, one per motion: the sampler (the ik test split), each pose of the library by
name, the walk cycle and each CMU clip when installed; every column holds --n instances (a library pose at --n
yaws and places; frames spread over a motion), the same truths and detector draws for every row. Avg is the mean
of the columns, as Table 2's. Rows: each energy's minima found by one solver (default: the search refined by
Levenberg-Marquardt) from the problem's initial estimate.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from ...cli_support import (SEED_NUMBER, add_check, add_force_argument, add_output_argument, whole_number,
                            write_results)
from ...bounds import integer
from ...outputs import check_output
from ..spec import add_config_arguments, config_from_arguments, config_to_dict
from .problem import Pose2DConfig

SETUPS = (("Monocular", 1), ("Multi-camera", 4))
COUNT = whole_number(integer(1, 100_000))


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=COUNT, default=64, help="instances per column (motion category)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0,
                        help="seed of the sampler's poses, the yaws and places, and the detector's draws")
    parser.add_argument("--categories", default="all",
                        help="comma-separated columns to run (sampler, library pose names, walk, cmu 01_01, ...); "
                             "all: every one available")
    parser.add_argument("--solver", default="search+lm", help="the solver that finds each energy's minima")
    parser.add_argument("--max-iterations", type=COUNT, default=None, help="its iteration limit (default: its own)")
    parser.add_argument("--mono-energy", default="trained",
                        help="the learned monocular energy (default: the shipped pose-from-2d-mono.safetensors)")
    parser.add_argument("--multi-energy", default="trained",
                        help="the learned four-camera energy (default: the shipped pose-from-2d-multi.safetensors)")
    add_config_arguments(parser, Pose2DConfig, exclude=("cameras", "energy", "poses", "detector_seed"))
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    add_check(parser, _check_bench)


def _check_bench(args: argparse.Namespace) -> None:
    from . import SPEC
    from .model import energy_weights

    SPEC.solver(args.solver)
    for energy, cameras in ((args.mono_energy, 1), (args.multi_energy, 4)):
        energy_weights(energy, cameras)


def columns(n: int, seed: int) -> dict[str, torch.Tensor]:
    """Column name -> (n, 24, 3) SMPL poses (module docstring)."""
    from ...bodies.poses import pose_library
    from ..ik.data import cmu_clips, load_motion
    from .data import category_poses

    def spread(poses: torch.Tensor) -> torch.Tensor:
        return poses[torch.linspace(0, len(poses) - 1, n).round().long()]

    found = {"sampler": category_poses("sampler", n, seed)}
    found.update({name: pose[None].expand(n, -1, -1) for name, pose in pose_library().items()})
    found["walk"] = spread(category_poses("walk"))
    found.update({f"cmu {clip.stem}": spread(load_motion(clip)) for clip in cmu_clips()})
    return found


def _selected(available: dict[str, torch.Tensor], text: str) -> dict[str, torch.Tensor]:
    if text == "all":
        return available
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown or not names:
        raise ValueError(f"--categories: no column {', '.join(unknown) or '(none)'}; choose from "
                         f"{', '.join(available)}")
    return {name: available[name] for name in names}


def _solve(config: Pose2DConfig, truth: torch.Tensor, solver_name: str, options: dict[str, Any]
           ) -> dict[str, float]:
    from . import SPEC
    from .problem import make_problem

    problem = make_problem(config, len(truth))
    observation = problem.forward(truth)
    last = SPEC.make_solver(solver_name, **options).solve(problem, observation, problem.initial_estimate(), truth)
    return {key: float(value.mean()) for key, value in last.metrics.items()}


def bench(args: argparse.Namespace) -> int:
    from .data import canonical_poses, place
    from .model import shipped_weights

    base = config_from_arguments(Pose2DConfig, args)
    options = {} if args.max_iterations is None else {"max_iterations": args.max_iterations}
    selected = _selected(columns(args.n, args.seed), args.categories)
    truths = {name: place(canonical_poses(poses), torch.Generator().manual_seed(args.seed + 1000 * i))
              for i, (name, poses) in enumerate(selected.items())}
    learned = {1: args.mono_energy, 4: args.multi_energy}
    rows: dict[str, dict[str, float]] = {}
    reprojection: dict[str, dict[str, float]] = {}
    for setup, cameras in SETUPS:
        for label, energy in (("baseline", "untrained"), ("learned", learned[cameras])):
            row = f"{setup}: {label}"
            rows[row], reprojection[row] = {}, {}
            for i, (name, truth) in enumerate(truths.items()):
                config = Pose2DConfig(**{**config_to_dict(base), "cameras": cameras, "energy": energy,
                                         "detector_seed": args.seed + i})
                figures = _solve(config, truth, args.solver, options)
                rows[row][name], reprojection[row][name] = figures["mpjpe_mm"], figures["reprojection_px"]
            for table in (rows, reprojection):
                table[row]["Avg"] = sum(table[row][name] for name in truths) / len(truths)
            print(f"{row}: {rows[row]['Avg']:.1f} mm", file=sys.stderr)
    reductions = {setup: 100.0 * (1 - rows[f"{setup}: learned"]["Avg"] / rows[f"{setup}: baseline"]["Avg"])
                  for setup, _ in SETUPS}
    energies = {setup: shipped_weights(cameras) if learned[cameras] == "trained" else learned[cameras]
                for setup, cameras in SETUPS}
    results = {"problem": "pose-from-2d", "solver": args.solver, "n": args.n, "seed": args.seed,
               "noise_px": base.noise_px, "outlier_rate": base.outlier_rate, "learned_energies": energies,
               "columns": list(truths) + ["Avg"], "mpjpe_mm": rows, "reprojection_px": reprojection,
               "reduction_percent": reductions}
    if not args.json:
        print(table_text(results))
    write_results(args, results)
    return 0


def table_text(results: dict[str, Any]) -> str:
    """The results as Markdown: Table 2's rows and columns, then the reductions."""
    header = ["MPJPE (mm)", *results["columns"]]
    lines = [f"pose-from-2d, {results['n']} instances per column (seed {results['seed']}), detector noise "
             f"{results['noise_px']:g} px, outliers {100 * results['outlier_rate']:g} %, minima by "
             f"{results['solver']}\n", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row, values in results["mpjpe_mm"].items():
        lines.append(f"| {row} | " + " | ".join(f"{values[c]:.1f}" for c in results["columns"]) + " |")
    lines.append("\nLearned against baseline (Avg): " + ", ".join(
        f"{setup.lower()} {-value:+.1f} %" for setup, value in results["reduction_percent"].items()))
    return "\n".join(lines)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import Pose2DTrainConfig

    parser.add_argument("--out", help="the weights file (.safetensors; default: the shipped "
                                      "assets/wibergian/pose-from-2d-mono or -multi.safetensors for --cameras, "
                                      "replaced only with --force)")
    add_config_arguments(parser, Pose2DTrainConfig)
    add_force_argument(parser)
    add_check(parser, _check_train)


def _train_config(args: argparse.Namespace):
    from .training import Pose2DTrainConfig

    return config_from_arguments(Pose2DTrainConfig, args)


def _out(args: argparse.Namespace, cameras: int) -> str:
    from .model import shipped_weights

    return args.out or shipped_weights(cameras)


def _check_train(args: argparse.Namespace) -> None:
    config = _train_config(args)
    check_output(_out(args, config.cameras), (".safetensors",), "--out", args.force)


def train(args: argparse.Namespace) -> int:
    from ...learn.energy_training import train_energy
    from .training import Pose2DTask

    config = _train_config(args)
    task = Pose2DTask(config)
    run = train_energy(task, _out(args, config.cameras))
    print(f"validation MPJPE {run.meta['data']['untrained validation']['mpjpe_mm']:.1f} mm untrained -> "
          f"{run.meta['validation']['mpjpe_mm']:.1f} mm learned, {run.meta['seconds']:.0f} s")
    return 0
