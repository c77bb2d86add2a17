"""`feedbacklab train PROBLEM --solver KIND` for a problem with learned fitters: the kind's settings
(fitter_training.FITTER_KINDS) under the flags, the shared trainer, the checkpoint DIR/PROBLEM-KIND.safetensors.
A problem supplies its training set: `training() -> (make_set, meta)` (imported when the command runs)."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from ..cli_support import add_check, add_force_argument
from ..problems.spec import Command, add_config_arguments, config_from_arguments, replace_config
from .fitter_training import FITTER_KINDS, FitterTrainConfig, MakeSet

Training = Callable[[], tuple[MakeSet, dict[str, Any]]]


def add_train_arguments(parser: argparse.ArgumentParser, problem: str, kinds: tuple[str, ...]) -> None:
    parser.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    parser.add_argument("--solver", default="lf", choices=kinds,
                        help="the learned fitter (or ablation) to train; its own settings are the defaults, flags "
                             "override them")
    add_config_arguments(parser, FitterTrainConfig, exclude=("steps", "shared", "feedback", "warm_start"))
    add_force_argument(parser)
    add_check(parser, lambda args: _check_train_output(args, problem))


def train_config(args: argparse.Namespace) -> FitterTrainConfig:
    """The flags' training config over the --solver kind's settings over lf's defaults."""
    preset = FITTER_KINDS[args.solver][1]
    return replace_config(config_from_arguments(FitterTrainConfig, args),
                          {k: v for k, v in preset.items() if getattr(args, f"config_{k}", None) is None})


def _check_train_output(args: argparse.Namespace, problem: str) -> None:
    from ..outputs import check_new, check_output_directory
    from .train import checkpoint_path

    train_config(args)
    check_output_directory(args.out, "--out")
    check_new(checkpoint_path(args.out, problem, args.solver), "--out", args.force)


def run_train(args: argparse.Namespace, problem: str, training: Training) -> int:
    from ..problems.registry import get_problem
    from .fitter_network import fitter_class
    from .fitter_training import FitterTask
    from .run import run_training

    make_set, meta = training()
    task = FitterTask(train_config(args), args.solver, fitter_class(problem), get_problem(problem).parameters,
                      make_set, meta)
    return run_training(task, args.out)


def train_command(problem: str, kinds: tuple[str, ...], help: str, training: Training) -> Command:
    """The problem's `train` subcommand."""
    return Command("train", problem, help, lambda parser: add_train_arguments(parser, problem, kinds),
                   lambda args: run_train(args, problem, training))
