"""The app's commands: `gui`, `demo` and `bench gui`. The app is imported only when a window opens, so that
every other command works without Dear PyGui or a display."""
from __future__ import annotations

import argparse
import sys

from .cli_support import SEED_NUMBER, add_output_argument
from .demo import DEMO_PROBLEM, DEMO_RECORDING, DEMO_SEED, DEMO_SOLVERS, record_demo
from .outputs import unused_name, write_json
from .problems.registry import get_problem, problems
from .record import FORMATS


def add_app_commands(commands: argparse._SubParsersAction, bench_kinds: argparse._SubParsersAction) -> None:
    gui = commands.add_parser("gui", help="open the desktop app")
    gui.add_argument("--problem", default=DEMO_PROBLEM, choices=list(problems()), help="the problem to open")
    helps: dict[str, str] = {}  # one flag per input key, with the help of the first problem that has it
    for entry in (entry for spec in problems().values() for entry in spec.inputs):
        helps.setdefault(entry.key, entry.help)
    for key, help_text in helps.items():
        gui.add_argument(f"--{key}", dest=f"input_{key}", help=f"{help_text}; loaded at start")
    gui.add_argument("--observation", help="an observation file of the problem to load at start")
    gui.add_argument("--session", help="app session (.npz) to open at start")
    gui.set_defaults(run=_gui)

    demo = commands.add_parser("demo", help="open the app on the built-in problem with solvers running; "
                                            "without a display, record the demo to a file instead")
    demo.add_argument("--solvers", default=",".join(DEMO_SOLVERS), help="comma-separated solver names")
    demo.add_argument("--seed", type=SEED_NUMBER, default=DEMO_SEED, help="seed of the random ground-truth pose")
    add_output_argument(demo, "--record", FORMATS,
                        f"where the demo is recorded when there is no display (.gif or .mp4; default {DEMO_RECORDING}, "
                        "numbered -1, -2, ... when that file exists)")
    demo.set_defaults(run=_demo)

    bench = bench_kinds.add_parser("gui", help="app frame rate while solvers run and while scrubbing "
                                               "(needs a display; use xvfb-run on a headless machine)")
    bench.add_argument("--solvers", default=",".join(DEMO_SOLVERS), help="comma-separated solver names")
    bench.add_argument("--window", help="window size WIDTHxHEIGHT (default: the app's default window on this "
                                        "screen)")
    add_output_argument(bench, "--out", (".json",), "also write the results as JSON")
    bench.set_defaults(run=_bench_gui)


def _require_display(command: str) -> None:
    from app.display import display_problem

    problem = display_problem()
    if problem is not None:
        raise RuntimeError(f"{problem}: `feedbacklab {command}` needs a desktop session; on a headless machine "
                           f"run it under xvfb-run, or `feedbacklab demo` records the demo to a file")


def _gui(args: argparse.Namespace) -> int:
    spec = get_problem(args.problem)
    foreign = [f"--{key}" for key in _given_inputs(args) if key not in {entry.key for entry in spec.inputs}]
    if foreign:
        raise ValueError(f"{', '.join(foreign)}: not an input of {spec.name}; its inputs are "
                         f"{', '.join('--' + entry.key for entry in spec.inputs) or 'none'}")
    _require_display("gui")
    from app.main import run_app

    return run_app(problem=spec.name, inputs=_given_inputs(args), observation=args.observation,
                   session=args.session)


def _given_inputs(args: argparse.Namespace) -> dict[str, str]:
    return {key[len("input_"):]: value for key, value in vars(args).items()
            if key.startswith("input_") and value is not None}


def _demo(args: argparse.Namespace) -> int:
    from app.display import display_problem

    solvers = tuple(get_problem(DEMO_PROBLEM).parse_solvers(args.solvers))
    problem = display_problem()
    if problem is None:
        from app.main import run_app

        return run_app(demo=True, solvers=solvers, seed=args.seed)
    path = args.record or unused_name(DEMO_RECORDING)
    print(f"feedbacklab: {problem}, so the app cannot open; recording the demo to {path} instead", file=sys.stderr)
    frames = record_demo(path, solvers, args.seed)
    print(f"wrote {path} ({frames} frames): {', '.join(solvers)} on the built-in problem", file=sys.stderr)
    return 0


def _bench_gui(args: argparse.Namespace) -> int:
    window = None if args.window is None else _window_size(args.window)
    solvers = tuple(get_problem(DEMO_PROBLEM).parse_solvers(args.solvers))
    _require_display("bench gui")
    from app.bench import frame_rate_benchmark, format_report

    report = frame_rate_benchmark(solvers, window)
    print(format_report(report))
    if args.out:
        write_json(args.out, report)
    return 0


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--window {text!r}: give the size as WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (320 <= width <= 8192 and 240 <= height <= 8192):
        raise ValueError(f"--window {text}: choose between 320x240 and 8192x8192")
    return width, height
