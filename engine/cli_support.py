"""Checks and flags shared by the command line's subcommands, the problems' own among them."""
from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from .outputs import check_output, write_json
from .problems.spec import ProblemSpec
from .record import FORMATS, check_settings


def add_check(parser: argparse.ArgumentParser, check: Callable[[argparse.Namespace], None]) -> None:
    """Has main run check(args) before the command does any work, so that a long run never ends in an error
    that was known at its start."""
    parser.set_defaults(checks=(*(parser.get_default("checks") or ()), check))


def run_checks(args: argparse.Namespace) -> None:
    """The command's checks (add_check), in the order they were added."""
    for check in getattr(args, "checks", ()):
        check(args)


def add_force_argument(parser: argparse.ArgumentParser) -> None:
    """--force, once per command: lets its outputs replace existing files."""
    if parser.get_default("force") is None:
        parser.add_argument("--force", action="store_true", help="overwrite output files that exist")


def add_output_argument(parser: argparse.ArgumentParser, flag: str, extensions: tuple[str, ...], help: str,
                        **options: Any) -> None:
    """A file the command writes: its extension, its directory and, unless --force, that no file has its name
    are checked before the command runs."""
    dest = parser.add_argument(flag, help=help, **options).dest
    add_force_argument(parser)
    add_check(parser, lambda args: check_output(getattr(args, dest), extensions, flag, args.force))


def add_recording_arguments(parser: argparse.ArgumentParser) -> None:
    """--record and its settings (checked before the command runs, as its outputs are)."""
    add_output_argument(parser, "--record", FORMATS, "write a side-by-side animation (.gif or .mp4)")
    parser.add_argument("--item", type=int, default=0, help="which problem of the batch to record")
    parser.add_argument("--max-frames", type=int, default=120, help="frames in the animation at most")
    parser.add_argument("--fps", type=int, default=10, help="animation frame rate")
    add_check(parser, lambda args: check_settings(args.fps, args.max_frames) if args.record else None)


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
        write_json(args.out, results)
