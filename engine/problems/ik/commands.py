"""`feedbacklab bench ik`: the paper's Table 5 (steps, time per solve, joint position and rotation errors) for
every solver on the test split and on the CMU clips, with each solver's time per iteration of the whole batch;
and `feedbacklab train ik`, the learned solvers' stage-wise training."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import torch

from ...cli_support import (
    SEED_NUMBER, add_check, add_force_argument, add_output_argument, add_solver_arguments, bench_setup, write_results,
)
from ...compare import run_comparison
from ...solvers.generic import GENERIC_SOLVERS
from ...summary import (
    batch_time_line, errors_after_steps, markdown_table, speedups, steps_caption, steps_table, summarize,
)
from ..registry import get_problem
from ..spec import add_config_arguments, config_fields, config_from_arguments

if TYPE_CHECKING:
    from .ikol_net import IKOLNetTrainConfig
    from .training import IKTrainConfig

FEEDBACK_NETWORKS = ("feedback", "feedback-shared")
"""The solvers whose errors after each of their steps are supplementary Tables 2 and 3."""
JOINT_NETWORKS = FEEDBACK_NETWORKS + ("deep6d",)
"""The learned solvers whose speed-up over the optimizers Table 5 reports."""


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .problem import IKConfig

    parser.add_argument("--n", type=int, default=100, help="poses of the test split")
    parser.add_argument("--cmu-frames", type=int, default=100,
                        help="frames spread over the CMU clips (assimp-testmodels), when installed; 0: skip them")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the test split's poses")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_config_arguments(parser, IKConfig)
    spec = get_problem("ik")
    add_solver_arguments(parser, spec, ",".join(entry.name for entry in spec.solvers))


def bench_ik(args: argparse.Namespace) -> int:
    from .data import cmu_clips, split_poses

    spec, names, options, config, device = bench_setup(args, "ik")
    sets = {f"test split ({args.n} sampled poses, seed {args.seed})": split_poses("test", args.n, args.seed)}
    if args.cmu_frames > 0 and cmu_clips():
        clips = ", ".join(path.name for path in cmu_clips())
        sets[f"CMU clips {clips} ({args.cmu_frames} frames)"] = split_poses("cmu", args.cmu_frames)
    elif args.cmu_frames > 0:
        print("note: the CMU clips are not installed (apt-get install assimp-testmodels); skipping them",
              file=sys.stderr)
    results = {"problem": "ik", "device": str(device), "torch_threads": torch.get_num_threads(), "sets": {}}
    for label, poses in sets.items():
        problem = spec.make(config, {}, device, len(poses))
        ground_truth = poses.reshape(len(poses), -1).to(device)
        comparison = run_comparison(
            spec, problem, problem.forward(ground_truth), names, ground_truth=ground_truth, keep_predictions=False,
            solver_options=options,
            on_solver_done=lambda name, trace: print(f"{name}: done, {trace.elapsed[-1]:.1f} s", file=sys.stderr))
        summaries = summarize(spec, comparison)
        for name, trace in comparison.traces.items():
            summaries[name]["ms_per_iteration"] = 1000 * float(trace.elapsed[-1]) / trace.num_iterations
            summaries[name]["ms_per_step_per_solve"] = 1000 * summaries[name]["seconds_per_solve"] / max(
                summaries[name]["steps"], 1.0)
        per_step = _per_step_errors(spec, comparison)
        results["sets"][label] = {"solvers": summaries, "errors_after_steps": per_step}
        if not args.json:
            _print_set(spec, label, device, len(poses), summaries, per_step)
    write_results(args, results)
    return 0


def _per_step_errors(spec, comparison) -> dict[str, dict[int, dict[str, float]]]:
    """Supplementary Table 2's errors after 1, 2, 3 steps for the feedback networks, and the error after each
    iteration 0-5 for IKOL's Gauss-Newton layer (its convergence curve)."""
    steps = {name: (1, 2, 3) for name in comparison.traces if name in FEEDBACK_NETWORKS}
    steps.update({name: tuple(range(6)) for name in comparison.traces if name.startswith("ikol")})
    return {name: errors_after_steps(spec, comparison.traces[name], k) for name, k in steps.items()}


def _print_set(spec, label: str, device, count: int, summaries: dict[str, dict[str, float]],
               per_step: dict[str, dict[int, dict[str, float]]]) -> None:
    print(f"\nik: {label}, device {device}\n")
    print(markdown_table(spec, summaries))
    print("\n" + batch_time_line(summaries, count))
    print("Time per step of one solve, its share of the batch (ms): " + ", ".join(
        f"{name} {s['ms_per_step_per_solve']:.2f}" for name, s in summaries.items()))
    print(speedups(summaries, [n for n in summaries if n in JOINT_NETWORKS], [n for n in summaries if n in GENERIC_SOLVERS]))
    networks = {name: rows for name, rows in per_step.items() if name in FEEDBACK_NETWORKS}
    if networks:
        print(f"\nError after k steps, supplementary Tables 2 and 3 ({steps_caption(spec)}):\n")
        print(steps_table(spec, networks))
    layers = {name: rows for name, rows in per_step.items() if name not in FEEDBACK_NETWORKS}
    if layers:
        print(f"\nIKOL's Gauss-Newton iterations ({steps_caption(spec)}; 0 steps: alpha = 0):\n")
        print(steps_table(spec, layers))


TRAINED_SOLVERS = ("feedback", "feedback-shared", "deep6d", "ikol-net")
"""The learned ik solvers `train ik --solver` makes checkpoints for."""


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .ikol_net import IKOLNetTrainConfig  # the trainer imports this problem
    from .training import IKTrainConfig

    parser.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    parser.add_argument("--solver", default="feedback", choices=TRAINED_SOLVERS, help="the learned solver to train")
    add_config_arguments(parser, IKTrainConfig, exclude=("shared", "feedback"))
    shared = {f.name: f.default for f in config_fields(IKTrainConfig)}
    ikol_only = [f.name for f in config_fields(IKOLNetTrainConfig) if f.name not in shared]
    own = ", ".join(f"{f.flag} {f.default}" for f in config_fields(IKOLNetTrainConfig)
                    if f.name in shared and f.default != shared[f.name] and f.name not in ("steps", "feedback"))
    group = parser.add_argument_group("ikol-net only", f"--solver ikol-net's own defaults: {own}")
    add_config_arguments(group, IKOLNetTrainConfig,
                         exclude=tuple(f.name for f in config_fields(IKOLNetTrainConfig) if f.name not in ikol_only))
    add_force_argument(parser)
    add_check(parser, _check_train_output)


def _train_config(args: argparse.Namespace) -> "IKTrainConfig | IKOLNetTrainConfig":
    from .ikol_net import IKOLNetTrainConfig
    from .training import LEARNED_KINDS, IKTrainConfig

    config_class = IKOLNetTrainConfig if args.solver == "ikol-net" else IKTrainConfig
    own = {f.name for f in config_fields(config_class)}
    foreign = [f.flag for config in (IKTrainConfig, IKOLNetTrainConfig) for f in config_fields(config)
               if f.name not in own and getattr(args, f"config_{f.name}", None) is not None]
    if foreign:
        raise ValueError(f"{', '.join(sorted(set(foreign)))}: --solver {args.solver} has no such setting")
    if args.solver == "ikol-net":
        if args.config_steps not in (None, "1"):
            raise ValueError(f"--steps {args.config_steps}: --solver ikol-net has exactly one step; leave --steps out")
        return config_from_arguments(IKOLNetTrainConfig, args)
    feedback, shared = LEARNED_KINDS[args.solver]
    if not feedback and args.config_steps not in (None, "1"):
        raise ValueError(f"--steps {args.config_steps}: --solver {args.solver} has exactly one step; leave --steps out")
    steps = {} if feedback else {"steps": 1}
    return config_from_arguments(IKTrainConfig, args, feedback=feedback, shared=shared, **steps)


def _check_train_output(args: argparse.Namespace) -> None:
    """--out can hold the checkpoint, and no earlier run's checkpoint is replaced without --force (the directory
    itself is locked while the run trains: engine.learn.train)."""
    from ...learn.train import checkpoint_path
    from ...outputs import check_new, check_output_directory

    _train_config(args)  # its settings are checked first
    check_output_directory(args.out, "--out")
    check_new(checkpoint_path(args.out, "ik", args.solver), "--out", args.force)


def train_ik(args: argparse.Namespace) -> int:
    from ...learn.run import run_training
    from .data import rest_joints_for
    from .ikol_net import IKOLNetTask
    from .training import IKTask

    config = _train_config(args)
    task = IKOLNetTask if args.solver == "ikol-net" else IKTask
    return run_training(task(config, rest_joints_for(config.betas)), args.out)
