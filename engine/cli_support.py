"""Checks and flags shared by the command line's subcommands, the problems' own among them."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable

from .bounds import SEED, Bound, integer
from .problems.spec import ProblemSpec
from .solvers.options import SHARED_OPTIONS, check_solver_options

CHECKPOINT_KINDS = ("learned", "chain")
"""Solver kinds that run update networks from a checkpoint (a chain starts with a learned solver)."""


def check_output(path: str | None, extensions: tuple[str, ...], flag: str) -> None:
    """Fails before any work when an output cannot be written."""
    if path is None:
        return
    if not path.lower().endswith(extensions):
        raise ValueError(f"{flag} {path}: choose a file ending in {' or '.join(extensions)}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{flag} {path}: directory {directory} does not exist")


def whole_number(bound: Bound) -> Callable[[str], int]:
    """An argparse type: a whole number within bound, else a one-line usage error with the range."""
    def parse(text: str) -> int:
        try:
            return bound.check("the value", int(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number {bound.describe()}, got {text!r}") from None
    return parse


def whole_numbers(text: str, flag: str, bound: Bound) -> list[int]:
    """'1000,5000' to whole numbers within bound; ValueError naming the flag and the range."""
    parse = whole_number(bound)
    try:
        return [parse(part) for part in text.split(",")]
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"{flag} {text!r}: {error}") from None


SEED_NUMBER = whole_number(SEED)


IMAGE_SIZES = integer(16, 2048)
"""Pixels of a side of a picture the commands render (--size)."""


def check_size(size: int) -> int:
    return IMAGE_SIZES.check("--size", size)


def add_solver_arguments(parser: argparse.ArgumentParser, spec: ProblemSpec, default: str | None = None) -> None:
    """--solvers (from what the problem offers) and the options solvers share."""
    parser.add_argument("--solvers", default=default or ",".join(spec.default_solvers),
                        help=f"comma-separated, from {spec.solver_names()}")
    for option in SHARED_OPTIONS:
        parser.add_argument(option.flag, dest=option.key, type=option.type, metavar=option.type.__name__.upper(),
                            help=f"{option.help}; {option.bound.describe()}")
    parser.add_argument("--checkpoint", help="learned solvers: a checkpoint from `feedbacklab train` "
                                             "(default: the shipped one in assets/checkpoints/)")


def solver_options(args: argparse.Namespace, spec: ProblemSpec, names: list[str]) -> dict[str, Any]:
    """The shared solver options the user set for the solvers `names` (each takes those it has a setting for),
    checked; --checkpoint only with a solver that reads one."""
    options = {option.key: getattr(args, option.key) for option in SHARED_OPTIONS
               if getattr(args, option.key, None) is not None}
    if args.checkpoint is not None:
        if not any(spec.solver(name).kind in CHECKPOINT_KINDS for name in names):
            learned = [entry.name for entry in spec.solvers if entry.kind in CHECKPOINT_KINDS]
            raise ValueError(f"--checkpoint {args.checkpoint}: only learned solvers read a checkpoint and --solvers "
                             f"{','.join(names)} has none; " + (f"add one of {', '.join(learned)}" if learned else
                                                                 f"problem {spec.name} has no learned solver"))
        options["checkpoint"] = args.checkpoint
    return check_solver_options(options)


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
