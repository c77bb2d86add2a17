"""The `feedbacklab` command line: problems, render, solve, train, bench, body, face and replay. Every problem's flags,
solvers, metrics and subcommands come from its spec (engine/problems/NAME/)."""
from __future__ import annotations

import argparse
import json
import sys
import typing
from typing import Any, Sequence

import numpy as np
import torch

from .cli_app import add_app_commands
from .cli_support import (
    SEED_NUMBER,
    add_output_argument,
    add_recording_arguments,
    add_solver_arguments,
    check_size,
    run_checks,
    solver_options,
)
from .device import default_device
from .outputs import atomic_path
from .problems.registry import get_problem, problems
from .problems.spec import (
    Instances, Problem, ProblemSpec, add_config_arguments, config_from_arguments, config_from_dict,
    loaded_observation,
)
from .summary import markdown_table, summarize
from .trace import Comparison

MAX_PRINTED_PARAMETERS = 12
"""Final estimates are printed for problems with at most this many parameters."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        run_checks(args)
        return args.run(args)
    except (ValueError, OSError, RuntimeError) as error:  # user-facing errors carry one-line messages
        print(f"feedbacklab: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("feedbacklab: interrupted", file=sys.stderr)
        return 130


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors (an unknown problem, a missing flag) as one line, like every other error."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"feedbacklab: error: {self.prog.removeprefix('feedbacklab ')}: {message}; see "
                     f"`{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="feedbacklab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    registered = problems()

    listing = commands.add_parser("problems", help="list the problems, one line each")
    listing.add_argument("--json", action="store_true", help="print them as JSON")
    listing.set_defaults(run=_problems)

    render = commands.add_parser("render", help="make an observation with a problem's forward process")
    render_kinds = render.add_subparsers(dest="problem", required=True)
    solve = commands.add_parser("solve", help="run solvers side by side on an observation")
    solve_kinds = solve.add_subparsers(dest="problem", required=True)
    for spec in registered.values():
        _render_parser(render_kinds, spec)
        _solve_parser(solve_kinds, spec)

    train = commands.add_parser("train", help="train a problem's learned solver (stage-wise, resumable)")
    train_kinds = train.add_subparsers(dest="problem", required=True)
    bench = commands.add_parser("bench", help="benchmarks: a problem's paper tables, step times, the app")
    bench_kinds = bench.add_subparsers(dest="kind", required=True)
    for spec in registered.values():
        for command in spec.commands:
            kinds = train_kinds if command.verb == "train" else bench_kinds
            sub = kinds.add_parser(command.name, help=command.help)
            command.add_arguments(sub)
            sub.set_defaults(run=command.run)

    body = commands.add_parser("body", help="human body models (SMPL format)")
    body_commands = body.add_subparsers(dest="body_command", required=True)
    show = body_commands.add_parser("show", help="render a shaded front view of a body with pyrender")
    show.add_argument("--model", help="a SMPL / SMPL-H / SMPL-X / MANO .pkl or .npz (default: the shipped body)")
    show.add_argument("--betas", help="comma-separated shape coefficients, e.g. '1.5,-0.5' (default: zeros)")
    show.add_argument("--pose", help="a library pose (a-pose, makehuman-t-pose, t-pose, arms-down, arms-up, stride, "
                                     "squat, reach), the walk-cycle motion, a .npy/.npz of axis-angle (24, 3) or "
                                     "(72,) poses, or a .bvh file")
    show.add_argument("--frame", type=int, help="frame of walk-cycle, a pose sequence or a .bvh (default: 0)")
    show.add_argument("--size", type=int, default=512, help="image size in pixels (square)")
    add_output_argument(show, "--out", (".png",), "output PNG", required=True)
    show.set_defaults(run=_body_show)

    face = commands.add_parser("face", help="the face model (identity, expression, four joints, 68 landmarks)")
    face_commands = face.add_subparsers(dest="face_command", required=True)
    show = face_commands.add_parser("show", help="render a shaded picture of a face with pyrender")
    show.add_argument("--model", help="a face model .npz (default: the shipped face, assets/face/default_face.npz)")
    show.add_argument("--identity", help="comma-separated identity coefficients, e.g. '1.5,-0.5' (default: zeros)")
    show.add_argument("--expression", help="facial actions NAME=VALUE (0 to 1), e.g. 'jawOpen=0.6,eyeBlinkLeft=1'")
    show.add_argument("--rotation", action="append", metavar="JOINT=X,Y,Z",
                      help="a joint's rotation (neck, head, eye_left, eye_right), axis-angle in degrees; repeatable")
    show.add_argument("--yaw", type=float, default=30.0, help="turn the view about the vertical, degrees "
                                                              "(0: front, default 30: three-quarter)")
    show.add_argument("--landmarks", action="store_true", help="draw the landmarks")
    show.add_argument("--size", type=int, default=512, help="image size in pixels (square)")
    add_output_argument(show, "--out", (".png",), "output PNG", required=True)
    show.set_defaults(run=_face_show)

    replay = commands.add_parser("replay", help="summarise (and record) a saved trace")
    replay.add_argument("trace_file", metavar="TRACE", help="a .npz written by `solve --trace`")
    add_recording_arguments(replay)
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.set_defaults(run=_replay)

    add_app_commands(commands, bench_kinds)
    return parser


def _problem_arguments(parser: argparse.ArgumentParser, spec: ProblemSpec) -> None:
    """The problem's inputs and config flags."""
    for entry in spec.inputs:
        parser.add_argument(f"--{entry.key}", dest=f"input_{entry.key}", help=entry.help)
    add_config_arguments(parser, spec.config)
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the random ground truth when none is given")


def _render_parser(kinds: argparse._SubParsersAction, spec: ProblemSpec) -> None:
    render = kinds.add_parser(spec.name, help=spec.summary)
    _problem_arguments(render, spec)
    render.add_argument("--gt", "--pose", dest="gt", help=f"the ground truth, {spec.x_hint} (default: a random one "
                                                          "from --seed)")
    add_output_argument(render, "--out", spec.observation_extensions,
                        f"output file ({', '.join(spec.observation_extensions)})", required=True)
    render.add_argument("--json", action="store_true", help="print what was written as JSON")
    render.set_defaults(run=_render, spec=spec)


def _solve_parser(kinds: argparse._SubParsersAction, spec: ProblemSpec) -> None:
    solve = kinds.add_parser(spec.name, help=spec.summary)
    _problem_arguments(solve, spec)
    solve.add_argument("--observation", help=f"an observation file ({', '.join(spec.observation_extensions)}; "
                                             "default: made from --gt or a random ground truth)")
    solve.add_argument("--gt", "--gt-pose", dest="gt", help=f"the ground truth, {spec.x_hint}: enables error metrics")
    solve.add_argument("--init", "--init-pose", dest="init",
                       help=f"the initial estimate, {spec.x_hint} (default: the problem's)")
    add_solver_arguments(solve, spec)
    add_recording_arguments(solve)
    add_output_argument(solve, "--trace", (".npz",), "save every iteration of every solver (.npz) for replay")
    if spec.save_estimate is not None:
        add_output_argument(solve, "--out", spec.estimate_extensions,
                            f"write the last solver's final estimate of problem --item "
                            f"({', '.join(spec.estimate_extensions)})")
    solve.add_argument("--json", action="store_true", help="print the summary as JSON")
    solve.set_defaults(run=_solve, spec=spec)


def _problems(args: argparse.Namespace) -> int:
    registered = problems()
    if args.json:
        print(json.dumps({name: {"title": spec.title, "summary": spec.summary,
                                 "solvers": [entry.name for entry in spec.solvers]}
                          for name, spec in registered.items()}, indent=2))
        return 0
    width = max(len(name) for name in registered)
    for name, spec in registered.items():
        print(f"{name:<{width}}  {spec.title}: {spec.summary}; solvers: {spec.solver_names()}")
    return 0


def _inputs(spec: ProblemSpec, args: argparse.Namespace) -> dict[str, Any]:
    """The problem's inputs, loaded (None: the built-in default), with a note on stderr for each one given."""
    loaded = {}
    for entry in spec.inputs:
        text = getattr(args, f"input_{entry.key}", None)
        loaded[entry.key] = entry.load(text)
        if text is not None:
            print(f"note: {entry.describe(loaded[entry.key])}", file=sys.stderr)
    return loaded


def make_instances(spec: ProblemSpec, args: argparse.Namespace, device: torch.device | str) -> Instances:
    """The problem batch of `render` and `solve`: from --observation (ground truth unknown unless --gt), else
    made from --gt or from the problem's ground-truth sampler (--seed)."""
    config = config_from_arguments(spec.config, args)
    inputs = _inputs(spec, args)
    observation = None
    if getattr(args, "observation", None):
        observation = np.asarray(spec.load_observation(args.observation), dtype=np.float32)
        if spec.fit_config is not None:
            config = spec.fit_config(config, observation)
    ground_truth = spec.parse_x(args.gt, config) if args.gt is not None else None
    batch = len(observation) if observation is not None else (len(ground_truth) if ground_truth is not None else None)
    problem = spec.make(config, inputs, device, batch)
    if ground_truth is not None:
        ground_truth = _batched(ground_truth, problem.batch_size, "--gt").to(device)
    given = loaded_observation(problem) if observation is None and ground_truth is None else None
    if given is not None:
        observed = given.to(device).float()
    elif observation is None:
        if ground_truth is None:
            ground_truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed)).to(device)
        observed = problem.forward(ground_truth).float()
        if spec.check_observation is not None:
            spec.check_observation(observed.cpu().numpy())
    else:
        observed = torch.as_tensor(observation, device=device)
        try:
            spec.observation.check(observed, problem.batch_size)
        except ValueError as error:
            raise ValueError(f"{args.observation}: {error}") from None
    return Instances(problem, observed, ground_truth)


def _batched(x: torch.Tensor, batch: int, flag: str) -> torch.Tensor:
    if len(x) == batch:
        return x
    if len(x) == 1:
        return x.expand(batch, -1).clone()
    raise ValueError(f"{flag} gives {len(x)} estimates for a batch of {batch} problems")


def _render(args: argparse.Namespace) -> int:
    spec: ProblemSpec = args.spec
    instances = make_instances(spec, args, "cpu")
    with atomic_path(args.out) as temporary:
        spec.save_observation(temporary, instances.observation.cpu().numpy())
    truth = instances.ground_truth
    if args.json:
        print(json.dumps({"problem": spec.name, "out": args.out, "shape": list(instances.observation.shape),
                          "ground_truth": [spec.format_x(row) for row in truth.numpy()]}, indent=2))
        return 0
    shown = spec.format_x(truth[0].numpy()) if truth is not None and truth.shape[1] <= MAX_PRINTED_PARAMETERS else ""
    print(f"wrote {args.out}: {len(instances.observation)} {spec.name} observation(s) "
          f"{tuple(instances.observation.shape[1:])}" + (f" at {shown}" if shown else ""))
    return 0


def _solve(args: argparse.Namespace) -> int:
    from .compare import run_comparison

    spec: ProblemSpec = args.spec
    names = spec.parse_solvers(args.solvers)
    options = solver_options(args, spec, names)
    device = default_device()
    instances = make_instances(spec, args, device)
    problem = instances.problem
    x0 = _batched(spec.parse_x(args.init, problem.config), problem.batch_size, "--init").to(device) \
        if args.init is not None else problem.initial_estimate()
    spec.check_start(problem, x0, f"--init {args.init}")
    if not 0 <= args.item < problem.batch_size:
        raise ValueError(f"--item {args.item}: the batch has {problem.batch_size} problems (0 to "
                         f"{problem.batch_size - 1})")

    def report(name, trace):
        if not args.json:
            print(f"{name}: {trace.steps().mean():.1f} steps in {trace.elapsed[-1]:.2f} s", file=sys.stderr)

    comparison = run_comparison(spec, problem, instances.observation, names, x0=x0,
                                ground_truth=instances.ground_truth, solver_options=options, on_solver_done=report,
                                meta={**_input_meta(spec, args), "observation": getattr(args, "observation", None)})
    _print_summary(spec, comparison, args.json)
    _write_outputs(comparison, args, problem)
    return 0


def _input_meta(spec: ProblemSpec, args: argparse.Namespace) -> dict[str, Any]:
    return {entry.key: getattr(args, f"input_{entry.key}", None) for entry in spec.inputs}


def _print_summary(spec: ProblemSpec, comparison: Comparison, as_json: bool) -> None:
    summaries = summarize(spec, comparison)
    if as_json:
        print(json.dumps({"problem": comparison.problem, "config": comparison.config, "solvers": summaries,
                          "meta": comparison.meta}, indent=2))
        return
    print(markdown_table(spec, summaries))
    small = comparison.x0.shape[1] <= MAX_PRINTED_PARAMETERS and comparison.observation.shape[0] == 1
    if comparison.ground_truth is not None and small:
        for name, trace in comparison.traces.items():
            print(f"{name}: final estimate {spec.format_x(trace.x[trace.last_index()[0], 0])}")
        print(f"ground truth: {spec.format_x(comparison.ground_truth[0])}")


def _write_outputs(comparison: Comparison, args: argparse.Namespace, problem: Problem | None) -> None:
    """--out, --trace and --record; problem: the batch solved, for the pictures it renders (None: without)."""
    if getattr(args, "out", None):
        spec: ProblemSpec = args.spec
        trace = list(comparison.traces.values())[-1]
        final = trace.x[trace.last_index()[args.item], args.item]
        with atomic_path(args.out) as temporary:
            spec.save_estimate(temporary, final, comparison.observation[args.item])
        print(f"wrote {args.out} ({trace.solver}'s estimate)", file=sys.stderr)
    if getattr(args, "trace", None):
        comparison.save(args.trace)
        print(f"wrote {args.trace}", file=sys.stderr)
    if args.record:
        from tqdm import tqdm

        from .record import record_comparison

        with tqdm(desc="recording", unit="frame", file=sys.stderr, leave=False, disable=not sys.stderr.isatty()) as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            frames = record_comparison(comparison, args.record, item=args.item, fps=args.fps,
                                       max_frames=args.max_frames, progress=progress, problem=problem)
        print(f"wrote {args.record} ({frames} frames)", file=sys.stderr)


def _body_show(args: argparse.Namespace) -> int:
    import math
    import time

    from .bodies import BETAS
    from .bodies.model import load_body
    from .bodies.poses import load_pose
    from .bodies.render import render_bodies
    from .camera import Camera

    size = check_size(args.size)
    started = time.perf_counter()
    body = load_body(args.model)
    betas = None
    if args.betas is not None:
        try:
            values = [float(v) for v in args.betas.split(",")]
        except ValueError:
            raise ValueError(f"--betas {args.betas!r}: expected comma-separated numbers such as 1.5,-0.5") from None
        betas = torch.tensor([BETAS.check("--betas", tuple(values))])
    pose = None
    if args.frame is not None and args.pose is None:
        raise ValueError(f"--frame {args.frame}: give --pose a motion, a pose sequence or a .bvh to pick it from")
    if args.pose is not None:
        rest = body().joints[0, : body.num_pose_joints].detach() if body.model_type == "smpl" else None
        pose = load_pose(args.pose, body.num_pose_joints, args.frame or 0, rest)[None]
    out = body(betas=betas, pose=pose)
    image = render_bodies(out.vertices.detach(), body.faces, Camera.square(size, fov_y=math.radians(30.0)))[0]
    from PIL import Image

    with atomic_path(args.out) as temporary:
        Image.fromarray(image.cpu().numpy()).save(temporary)
    print(f"wrote {args.out}: {size}x{size} {body.name}, {body.num_vertices} vertices "
          f"({time.perf_counter() - started:.2f} s)")
    return 0


def _face_show(args: argparse.Namespace) -> int:
    from .faces.show import show_face

    return show_face(args)


def _replay(args: argparse.Namespace) -> int:
    comparison = Comparison.load(args.trace_file)
    spec = get_problem(comparison.problem)
    _print_summary(spec, comparison, args.json)
    _write_outputs(comparison, args, _solved_problem(spec, comparison) if args.record else None)
    return 0


def _solved_problem(spec: ProblemSpec, comparison: Comparison) -> Problem | None:
    """The problem a trace of `solve` was computed on, made again from the inputs its meta names, for the
    pictures the problem renders itself; None, with a note, when those cannot be loaded."""
    if not spec.rendered_panels:
        return None
    missing = [entry.key for entry in spec.inputs if entry.key not in comparison.meta]
    try:
        if missing:
            raise ValueError(f"the trace does not name its {', '.join(missing)}")
        inputs = {entry.key: entry.load(comparison.meta[entry.key]) for entry in spec.inputs}
        config = config_from_dict(spec.config, comparison.config)
        return spec.make(config, inputs, "cpu", comparison.observation.shape[0])
    except (ValueError, OSError) as error:
        titles = ", ".join(panel.title for panel in spec.rendered_panels)
        print(f"note: recording without {titles}: {' '.join(str(error).split())}", file=sys.stderr)
        return None


if __name__ == "__main__":
    sys.exit(main())
