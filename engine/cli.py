"""The `feedbacklab` command line: render, solve, train, bench, body and replay."""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, replace
from typing import Sequence

import torch

from .cli_app import add_app_commands
from .device import default_device
from .images import load_silhouette, save_silhouette
from .learn.train import TrainConfig
from .meshes import DEFAULT_MAX_FACES, Mesh
from .problems.pose6d import Pose6DConfig, Pose6DProblem, format_pose, parse_pose
from .procedural import resolve_mesh
from .solvers.registry import SOLVER_FACTORIES, parse_solver_names
from .summary import markdown_table, summarize
from .trace import Comparison

PROBLEMS = ("pose6d",)
LEARNED_SOLVERS = ("feedback", "feedback-damped", "feedback-shared", "regression")
UNSEEN_RANGES = ((40.0, 45.0), (45.0, 50.0), (50.0, 55.0), (55.0, 60.0))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, RuntimeError) as error:  # user-facing errors carry one-line messages
        print(f"feedbacklab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("feedbacklab: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedbacklab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    render = commands.add_parser("render", help="render a silhouette observation with pyrender")
    render.add_argument("problem", choices=PROBLEMS)
    _mesh_argument(render)
    render.add_argument("--pose", help="'qw,qx,qy,qz,tx,ty,tz' (default: a random pose from --seed)")
    render.add_argument("--seed", type=int, default=0, help="seed of the random pose")
    render.add_argument("--size", type=int, default=128, help="image size in pixels (square)")
    render.add_argument("--out", required=True, help="output PNG")
    render.set_defaults(run=_render)

    solve = commands.add_parser("solve", help="run solvers side by side on one observation")
    solve.add_argument("problem", choices=PROBLEMS)
    _mesh_argument(solve)
    solve.add_argument("--observation", help="silhouette PNG/JPG (default: rendered from --gt-pose or a random pose)")
    solve.add_argument("--gt-pose", help="ground-truth 'qw,qx,qy,qz,tx,ty,tz': enables error metrics")
    solve.add_argument("--init-pose", help="initial estimate (default: identity rotation, zero offset)")
    solve.add_argument("--seed", type=int, default=0, help="seed of the random ground truth when none is given")
    solve.add_argument("--size", type=int, default=128, help="image size when no observation is given")
    _solver_arguments(solve, "nmr,softras")
    solve.add_argument("--record", help="write a side-by-side animation (.gif or .mp4)")
    solve.add_argument("--trace", help="save every iteration of every solver (.npz) for replay")
    solve.add_argument("--max-frames", type=int, default=120, help="frames in the animation at most")
    solve.add_argument("--fps", type=int, default=10, help="animation frame rate")
    solve.add_argument("--json", action="store_true", help="print the summary as JSON")
    solve.set_defaults(run=_solve)

    train = commands.add_parser("train", help="train a learned solver (stage-wise, resumable)")
    train.add_argument("problem", choices=PROBLEMS)
    train.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    train.add_argument("--meshes", help="training meshes, files and/or directories, comma-separated; a tenth is "
                                        "held out for validation (default: the procedural train/val splits)")
    train.add_argument("--steps", type=int, default=5, help="feedback steps (stages)")
    train.add_argument("--shared", action="store_true", help="one network for all steps")
    train.add_argument("--regression", action="store_true", help="the deep regression baseline (no feedback)")
    train.add_argument("--samples", type=int, default=TrainConfig.samples, help="training problems per stage")
    train.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="passes over each stage's problems")
    train.add_argument("--seed", type=int, default=0, help="seed of data and initialisation")
    train.add_argument("--size", type=int, default=128, help="silhouette size in pixels (divisible by 32)")
    train.set_defaults(run=_train)

    bench = commands.add_parser("bench", help="benchmarks: accuracy (pose6d) or step time (speed)")
    kinds = bench.add_subparsers(dest="kind", required=True)
    accuracy = kinds.add_parser("pose6d", help="solve n sampled pose problems; Table 1 of the paper")
    accuracy.add_argument("--n", type=int, default=100, help="number of problems")
    accuracy.add_argument("--meshes", help="mesh files and/or directories, comma-separated (default: procedural)")
    accuracy.add_argument("--split", default="test", choices=("train", "val", "test"), help="procedural split")
    accuracy.add_argument("--seed", type=int, default=0, help="seed of the sampled problems")
    accuracy.add_argument("--rotation-range", help="'lo,hi' degrees of the ground-truth rotation (default 0,40)")
    accuracy.add_argument("--size", type=int, default=128, help="silhouette size in pixels")
    _solver_arguments(accuracy, "nmr,softras")
    accuracy.add_argument("--unseen", action="store_true",
                          help="also run the learned solvers on unseen rotation ranges 40-45 ... 55-60 degrees")
    accuracy.add_argument("--out", help="also write the results as JSON")
    accuracy.set_defaults(run=_bench_accuracy)
    speed = kinds.add_parser("speed", help="ms per optimizer step vs faces and image size; pyrender ms")
    speed.add_argument("--solvers", default="nmr,softras", help="comma-separated solver names")
    speed.add_argument("--faces", default="1000,5000,20000,80000", help="face counts at 128 px")
    speed.add_argument("--sizes", default="64,128,256", help="image sizes at 5,000 faces")
    speed.add_argument("--steps", type=int, default=30, help="timed steps per combination")
    speed.add_argument("--out", help="also write the results as JSON")
    speed.set_defaults(run=_bench_speed)

    body = commands.add_parser("body", help="human body models (SMPL format)")
    body_commands = body.add_subparsers(dest="body_command", required=True)
    show = body_commands.add_parser("show", help="render a shaded front view of a body with pyrender")
    show.add_argument("--model", help="a SMPL / SMPL-H / SMPL-X / MANO .pkl or .npz (default: the shipped body)")
    show.add_argument("--betas", help="comma-separated shape coefficients, e.g. '1.5,-0.5' (default: zeros)")
    show.add_argument("--pose", help="a library pose (a-pose, makehuman-t-pose, t-pose, arms-down, arms-up, stride, "
                                     "squat, reach), the walk-cycle motion, a .npy/.npz of axis-angle (24, 3) or "
                                     "(72,) poses, or a .bvh file")
    show.add_argument("--frame", type=int, default=0, help="frame of walk-cycle, a pose sequence or a .bvh")
    show.add_argument("--size", type=int, default=512, help="image size in pixels (square)")
    show.add_argument("--out", required=True, help="output PNG")
    show.set_defaults(run=_body_show)

    replay = commands.add_parser("replay", help="summarise (and record) a saved trace")
    replay.add_argument("trace_file", metavar="TRACE", help="a .npz written by `solve --trace`")
    replay.add_argument("--record", help="write the side-by-side animation (.gif or .mp4)")
    replay.add_argument("--max-frames", type=int, default=120, help="frames in the animation at most")
    replay.add_argument("--fps", type=int, default=10, help="animation frame rate")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.set_defaults(run=_replay)

    add_app_commands(commands, kinds)
    return parser


def _mesh_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mesh", help="OBJ/PLY/STL/OFF/GLB/GLTF file, or a procedural object such as chair-7 "
                                       "(default: the built-in object)")


def _solver_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--solvers", default=default, help=f"comma-separated, from {', '.join(SOLVER_FACTORIES)}")
    parser.add_argument("--max-iterations", type=int, help="iteration limit of every solver (default 500)")
    parser.add_argument("--lr", type=float, help="optimizers' step size (default 0.01)")
    parser.add_argument("--sigma", type=float, help="SoftRas sharpness (default 1e-4; smaller is sharper)")
    parser.add_argument("--checkpoint", help="learned solvers: a checkpoint from `feedbacklab train` "
                                             "(default: the shipped one in assets/checkpoints/)")


def _resolve_mesh(spec: str | None) -> Mesh:
    """resolve_mesh, telling the user when the mesh was simplified."""
    mesh = resolve_mesh(spec)
    if mesh.simplified_from is not None:
        print(f"note: {spec} has {mesh.simplified_from} faces; simplified to {mesh.num_faces} "
              f"(the limit is {DEFAULT_MAX_FACES})", file=sys.stderr)
    return mesh


def _solver_options(args: argparse.Namespace) -> dict:
    options = {}
    if args.max_iterations is not None:
        if args.max_iterations < 1:
            raise ValueError(f"--max-iterations must be at least 1, got {args.max_iterations}")
        options["max_iterations"] = args.max_iterations
    if args.lr is not None:
        options["learning_rate"] = args.lr
    if args.sigma is not None:
        options["sigma"] = args.sigma
    if args.checkpoint is not None:
        options["checkpoint"] = args.checkpoint
    return options


def _check_output(path: str | None, extensions: tuple[str, ...], flag: str) -> None:
    """Fails before any work when an output cannot be written."""
    if path is None:
        return
    if not path.lower().endswith(extensions):
        raise ValueError(f"{flag} {path}: choose a file ending in {' or '.join(extensions)}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{flag} {path}: directory {directory} does not exist")


def _render(args: argparse.Namespace) -> int:
    _check_output(args.out, (".png", ".jpg", ".jpeg", ".bmp"), "--out")
    config = replace(Pose6DConfig(), image_size=_check_size(args.size))
    problem = Pose6DProblem.for_meshes(_resolve_mesh(args.mesh), 1, config)
    pose = parse_pose(args.pose) if args.pose else problem.sample_ground_truth(torch.Generator().manual_seed(args.seed))
    silhouette = problem.render(pose)[0]
    if not silhouette.any():
        raise ValueError(f"pose {format_pose(pose)} puts the object outside the image; choose a smaller offset")
    save_silhouette(args.out, silhouette.numpy())
    print(f"wrote {args.out}: {args.size}x{args.size} silhouette of {problem.meshes[0].name} at {format_pose(pose)}")
    return 0


def _body_show(args: argparse.Namespace) -> int:
    import math
    import time

    from .bodies.model import load_body
    from .bodies.poses import load_pose
    from .bodies.render import render_bodies
    from .camera import Camera

    _check_output(args.out, (".png",), "--out")
    size = _check_size(args.size)
    started = time.perf_counter()
    body = load_body(args.model)
    betas = None
    if args.betas:
        try:
            values = [float(v) for v in args.betas.split(",")]
        except ValueError:
            raise ValueError(f"--betas {args.betas!r}: expected comma-separated numbers such as 1.5,-0.5") from None
        betas = torch.tensor([values])
    pose = None
    if args.pose:
        rest = body().joints[0, : body.num_pose_joints].detach() if body.model_type == "smpl" else None
        pose = load_pose(args.pose, body.num_pose_joints, args.frame, rest)[None]
    out = body(betas=betas, pose=pose)
    image = render_bodies(out.vertices.detach(), body.faces, Camera.square(size, fov_y=math.radians(30.0)))[0]
    from PIL import Image

    Image.fromarray(image.cpu().numpy()).save(args.out)
    print(f"wrote {args.out}: {size}x{size} {body.name}, {body.num_vertices} vertices "
          f"({time.perf_counter() - started:.2f} s)")
    return 0


def _check_size(size: int) -> int:
    if not 16 <= size <= 2048:
        raise ValueError(f"--size must be between 16 and 2048 pixels, got {size}")
    return size


def _solve(args: argparse.Namespace) -> int:
    from .compare import run_comparison

    _check_output(args.record, (".gif", ".mp4"), "--record")
    _check_output(args.trace, (".npz",), "--trace")
    names = parse_solver_names(args.solvers)
    options = _solver_options(args)
    mesh = _resolve_mesh(args.mesh)
    ground_truth = parse_pose(args.gt_pose) if args.gt_pose else None
    if args.observation:
        observation = torch.from_numpy(load_silhouette(args.observation))[None]
        size = observation.shape[-1]
    else:
        size = _check_size(args.size)
    device = default_device()
    problem = Pose6DProblem.for_meshes(mesh, 1, replace(Pose6DConfig(), image_size=size), device)
    if not args.observation:
        if ground_truth is None:
            ground_truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed)).cpu()
        observation = problem.render(ground_truth.to(device)).cpu()
    x0 = parse_pose(args.init_pose) if args.init_pose else problem.initial_estimate().cpu()

    def report(name, trace):
        if not args.json:
            print(f"{name}: {int(trace.steps()[0])} steps in {trace.elapsed[-1]:.2f} s", file=sys.stderr)

    comparison = run_comparison(
        problem, "pose6d", observation.to(device), names, x0=x0.to(device),
        ground_truth=None if ground_truth is None else ground_truth.to(device), solver_options=options,
        on_solver_done=report,
        meta={"mesh": mesh.name, "observation": args.observation, "image_size": size},
    )
    _print_summary(comparison, args.json)
    _write_outputs(comparison, args)
    return 0


def _print_summary(comparison: Comparison, as_json: bool) -> None:
    summaries = summarize(comparison)
    if as_json:
        print(json.dumps({"problem": comparison.problem, "solvers": summaries, "meta": comparison.meta}, indent=2))
        return
    print(markdown_table(summaries))
    if comparison.ground_truth is not None:
        for name, trace in comparison.traces.items():
            final = trace.x[trace.last_index()[0], 0]
            print(f"{name}: final pose {format_pose(torch.from_numpy(final))}")
        print(f"ground truth: {format_pose(torch.from_numpy(comparison.ground_truth[0]))}")


def _write_outputs(comparison: Comparison, args: argparse.Namespace) -> None:
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

            frames = record_comparison(comparison, args.record, fps=args.fps, max_frames=args.max_frames,
                                       progress=progress)
        print(f"wrote {args.record} ({frames} frames)", file=sys.stderr)


def _train(args: argparse.Namespace) -> int:
    import torch.distributed as dist
    from tqdm import tqdm

    from .bench import load_mesh_set
    from .learn.train import train

    config = TrainConfig(steps=1 if args.regression else args.steps, shared=args.shared,
                         feedback=not args.regression, samples=args.samples, epochs=args.epochs, seed=args.seed,
                         image_size=args.size)
    if args.meshes:
        meshes = load_mesh_set(args.meshes)
        held_out = max(1, len(meshes) // 10)
        if len(meshes) < 2:
            raise ValueError(f"--meshes {args.meshes}: need at least two meshes (one is held out for validation)")
        train_meshes, validation_meshes = meshes[:-held_out], meshes[-held_out:]
        source = {"meshes": args.meshes, "train": len(train_meshes), "validation": len(validation_meshes)}
    else:
        train_meshes, validation_meshes = load_mesh_set(None, "train"), load_mesh_set(None, "val")
        source = {"meshes": "procedural", "train": len(train_meshes), "validation": len(validation_meshes)}
    training_set = dict(source, samples=config.samples, seed=config.seed, rotation_range_deg=[0, 40])
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = default_device()
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    bars = []

    def progress(description: str, total: int):
        bar = tqdm(total=total, desc=description, file=sys.stderr, leave=False, disable=not sys.stderr.isatty())
        bars.append(bar)
        return bar.update

    try:
        path = train(config, args.out, train_meshes, validation_meshes, training_set, progress,
                     log=lambda message: print(message, file=sys.stderr), device=device)
    finally:
        for bar in bars:
            bar.close()
        if distributed:
            dist.destroy_process_group()
    if not distributed or int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {path}")
    return 0


def _bench_accuracy(args: argparse.Namespace) -> int:
    from .bench import accuracy_benchmark, load_mesh_set
    from .summary import errors_after_steps

    _check_output(args.out, (".json",), "--out")
    names = parse_solver_names(args.solvers)
    options = _solver_options(args)
    rotation_range = _parse_range(args.rotation_range) if args.rotation_range else None
    meshes = load_mesh_set(args.meshes, args.split)
    device = str(default_device())

    def run(solvers: list[str], rotations: tuple[float, float] | None) -> Comparison:
        return accuracy_benchmark(
            solvers, args.n, meshes, seed=args.seed, rotation_range_deg=rotations, image_size=_check_size(args.size),
            solver_options=options, device=device,
            on_solver_done=lambda name, s: print(f"{name}: done, {s['batch_seconds']:.1f} s", file=sys.stderr))

    comparison = run(names, rotation_range)
    summaries = summarize(comparison)
    source = args.meshes or f"procedural {args.split} split"
    results = {"problem": "pose6d", "n": args.n, "meshes": source, "seed": args.seed,
               "rotation_range_deg": rotation_range or [0, 40], "solvers": summaries}
    print(f"pose6d: {args.n} problems on {source}, rotations {rotation_range or (0, 40)} deg, seed {args.seed}\n")
    print(markdown_table(summaries))
    print(_speedups(summaries))

    learned = [name for name in names if name in LEARNED_SOLVERS]
    if learned:
        per_step = {name: errors_after_steps(comparison.traces[name], (1, 3, 5)) for name in learned}
        results["errors_after_steps"] = per_step
        print("\nError after k steps (mean translation / mean rotation in degrees):\n")
        print(_steps_table(per_step))
    if args.unseen and learned:
        unseen = {}
        for low, high in UNSEEN_RANGES:
            unseen[f"{low:g}-{high:g}"] = summarize(run(learned, (low, high)))
        results["unseen_rotations"] = unseen
        print("\nUnseen rotation ranges (trained on 0-40 degrees):\n")
        print(markdown_table({f"{name} {label}": rows[name] for label, rows in unseen.items() for name in learned}))
    if args.out:
        with open(args.out, "w") as file:
            json.dump(results, file, indent=2)
    return 0


def _speedups(summaries: dict[str, dict[str, float]]) -> str:
    """'feedback is 180x faster than nmr per solve', for every learned / optimizer pair."""
    lines = []
    for fast in (n for n in summaries if n in LEARNED_SOLVERS):
        for slow in (n for n in summaries if n not in LEARNED_SOLVERS):
            ratio = summaries[slow]["seconds_per_solve"] / max(summaries[fast]["seconds_per_solve"], 1e-9)
            lines.append(f"{fast} is {ratio:.0f}x faster than {slow} per solve")
    return ("\n" + "\n".join(lines)) if lines else ""


def _steps_table(per_step: dict[str, dict[int, dict[str, float]]]) -> str:
    steps = sorted(next(iter(per_step.values())))
    lines = ["| Solver | " + " | ".join(f"{k} step{'s' if k > 1 else ''}" for k in steps) + " |",
             "|---" * (len(steps) + 1) + "|"]
    for name, rows in per_step.items():
        cells = [f"{rows[k]['translation_error_mean']:.3f} / {rows[k]['rotation_error_mean']:.2f}" for k in steps]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parse_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--rotation-range {text!r}: expected 'lo,hi' in degrees, e.g. 40,45") from None
    if not 0 <= low <= high <= 180:
        raise ValueError(f"--rotation-range {text!r}: need 0 <= lo <= hi <= 180")
    return low, high


def _bench_speed(args: argparse.Namespace) -> int:
    from .bench import pyrender_timing, step_timings, timing_table

    _check_output(args.out, (".json",), "--out")
    names = parse_solver_names(args.solvers)
    faces = [int(v) for v in args.faces.split(",")]
    sizes = [_check_size(int(v)) for v in args.sizes.split(",")]
    device = str(default_device())
    combinations = [(count, 128) for count in faces] + [(5000, size) for size in sizes if size != 128]
    timings = step_timings(names, list(dict.fromkeys(combinations)), steps=args.steps, device=device)
    by_faces = [t for t in timings if t.image_size == 128]
    by_size = [t for t in timings if t.requested_faces == 5000]
    pyrender_ms = pyrender_timing()
    print(f"device: {device}, torch threads: {torch.get_num_threads()}\n")
    print("Step time vs faces (128 px):\n" + timing_table(by_faces) + "\n")
    print("Step time vs image size (5,000 faces):\n" + timing_table(by_size) + "\n")
    print(f"pyrender silhouette, 128 px, 5,000 faces: {pyrender_ms:.2f} ms per render")
    if args.out:
        with open(args.out, "w") as file:
            json.dump({"device": device, "by_faces": [asdict(t) for t in by_faces],
                       "by_size": [asdict(t) for t in by_size], "pyrender_ms": pyrender_ms}, file, indent=2)
    return 0


def _replay(args: argparse.Namespace) -> int:
    _check_output(args.record, (".gif", ".mp4"), "--record")
    comparison = Comparison.load(args.trace_file)
    _print_summary(comparison, args.json)
    _write_outputs(comparison, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
