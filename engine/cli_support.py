"""Checks and flags shared by the command line's subcommands, the problems' own among them."""
from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from .bounds import SEED, Bound, integer
from .outputs import check_output, write_json
from .problems.spec import ProblemSpec
from .record import FORMATS, check_settings
from .solvers.options import SHARED_OPTIONS, check_solver_options

CHECKPOINT_KINDS = ("learned", "chain")
"""Solver kinds that run update networks from a checkpoint (a chain starts with a learned solver)."""


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
"""Pixels of a side of the pictures `body show` and `face show` render (--size)."""


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


def bench_setup(args: argparse.Namespace, problem: str) -> tuple[ProblemSpec, list[str], dict[str, Any], Any, Any]:
    """What a problem's bench starts from: its spec, the --solvers, their shared options, the config of the flags
    and the device; ValueError (one line) for a bad one or --n below 1."""
    from .device import default_device
    from .problems.registry import get_problem
    from .problems.spec import config_from_arguments

    spec = get_problem(problem)
    names = spec.parse_solvers(args.solvers)
    options = solver_options(args, spec, names)
    config = config_from_arguments(spec.config, args)
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}")
    return spec, names, options, config, default_device()


def tables_unless_json(args: argparse.Namespace) -> Callable[..., None]:
    """print, or nothing when --json asks for a benchmark's results as JSON alone."""
    return (lambda *_: None) if args.json else print


def write_results(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """A benchmark's results: printed as JSON with --json, written to --out when given."""
    if args.json:
        print(json.dumps(results, indent=2))
    if args.out:
        write_json(args.out, results)
