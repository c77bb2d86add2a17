"""Checks and flags shared by the command line's subcommands, the problems' own among them."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable

from .problems.spec import ProblemSpec


def check_output(path: str | None, extensions: tuple[str, ...], flag: str) -> None:
    """Fails before any work when an output cannot be written."""
    if path is None:
        return
    if not path.lower().endswith(extensions):
        raise ValueError(f"{flag} {path}: choose a file ending in {' or '.join(extensions)}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{flag} {path}: directory {directory} does not exist")


def check_size(size: int) -> int:
    if not 16 <= size <= 2048:
        raise ValueError(f"--size must be between 16 and 2048 pixels, got {size}")
    return size


def add_solver_arguments(parser: argparse.ArgumentParser, spec: ProblemSpec, default: str | None = None) -> None:
    """--solvers (from what the problem offers) and the options solvers share."""
    parser.add_argument("--solvers", default=default or ",".join(spec.default_solvers),
                        help=f"comma-separated, from {spec.solver_names()}")
    parser.add_argument("--max-iterations", type=int, help="iteration limit of every solver (default: each solver's)")
    parser.add_argument("--lr", type=float, help="gradient optimizers' step size (default 0.01)")
    parser.add_argument("--sigma", type=float, help="SoftRas sharpness (default 1e-4; smaller is sharper)")
    parser.add_argument("--checkpoint", help="learned solvers: a checkpoint from `feedbacklab train` "
                                             "(default: the shipped one in assets/checkpoints/)")


def solver_options(args: argparse.Namespace) -> dict[str, Any]:
    """The shared solver options the user set (each solver takes those it has a setting for)."""
    options: dict[str, Any] = {}
    if args.max_iterations is not None:
        if args.max_iterations < 1:
            raise ValueError(f"--max-iterations must be at least 1, got {args.max_iterations}")
        options["max_iterations"] = args.max_iterations
    if args.lr is not None:
        options["learning_rate"] = args.lr
    if getattr(args, "sigma", None) is not None:
        options["sigma"] = args.sigma
    if args.checkpoint is not None:
        options["checkpoint"] = args.checkpoint
    return options


def tables_unless_json(args: argparse.Namespace) -> Callable[..., None]:
    """print, or nothing when --json asks for a benchmark's results as JSON alone."""
    return (lambda *_: None) if args.json else print


def write_results(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """A benchmark's results: printed as JSON with --json, written to --out when given."""
    if args.json:
        print(json.dumps(results, indent=2))
    if args.out:
        with open(args.out, "w") as file:
            json.dump(results, file, indent=2)
