"""pose6d's subcommands: `bench pose6d` (the paper's Tables 1-3), `bench speed` (its Fig. 5) and
`train pose6d` (the learned solvers' stage-wise trainer)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...bounds import integer
from ...cli_support import (
    SEED_NUMBER,
    add_check,
    add_force_argument,
    add_output_argument,
    add_solver_arguments,
    solver_options,
    tables_unless_json,
    whole_number,
    whole_numbers,
    write_results,
)
from ...device import default_device
from ...meshes import DEFAULT_MAX_FACES
from ...outputs import check_new, check_output_directory
from ...summary import errors_after_steps, markdown_table, speedups, steps_caption, steps_table, summarize
from ...trace import Comparison, Trace
from ..registry import get_problem
from ..spec import add_config_arguments, config_fields
from .problem import Pose6DConfig

if TYPE_CHECKING:
    from .training import Pose6DTrainConfig

LEARNED_SOLVERS = ("feedback", "feedback-damped", "feedback-shared", "regression")
UNSEEN_RANGES = ((40.0, 45.0), (45.0, 50.0), (50.0, 55.0), (55.0, 60.0))
TIMED_STEPS = integer(1, 10_000)
FACE_COUNTS = integer(4, DEFAULT_MAX_FACES)
IMAGE_SIZE = next(f.bound for f in config_fields(Pose6DConfig) if f.name == "image_size")
"""The image sizes the benchmarks take: the config's own range (one fact, in Pose6DConfig)."""


TRAINED_SOLVERS = ("feedback", "feedback-shared", "regression")


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    from .training import Pose6DTrainConfig

    train.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    train.add_argument("--solver", default="feedback", choices=TRAINED_SOLVERS, help="the learned solver to train")
    train.add_argument("--meshes", help="training meshes, files and/or directories, comma-separated; a tenth is "
                                        "held out for validation (default: the procedural train/val splits)")
    train.add_argument("--add-meshes", help="more training meshes, files and/or directories, comma-separated, added "
                                            "to the training set only (never to validation)")
    add_config_arguments(train, Pose6DTrainConfig, exclude=("shared", "feedback"))
    add_force_argument(train)
    add_check(train, _check_train_output)


def add_accuracy_arguments(accuracy: argparse.ArgumentParser) -> None:
    accuracy.add_argument("--n", type=int, default=100, help="number of problems")
    accuracy.add_argument("--meshes", help="mesh files and/or directories, comma-separated (default: procedural)")
    accuracy.add_argument("--split", default="test", choices=("train", "val", "test"), help="procedural split")
    accuracy.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the sampled problems")
    accuracy.add_argument("--rotation-range", help="'lo,hi' degrees of the ground-truth rotation (default 0,40)")
    accuracy.add_argument("--size", type=int, default=128, help="silhouette size in pixels")
    accuracy.add_argument("--unseen", action="store_true",
                          help="also run the learned solvers on unseen rotation ranges 40-45 ... 55-60 degrees")
    add_output_argument(accuracy, "--out", (".json",), "also write the results as JSON")
    accuracy.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    add_solver_arguments(accuracy, get_problem("pose6d"))


def add_speed_arguments(speed: argparse.ArgumentParser) -> None:
    speed.add_argument("--solvers", default="nmr,softras", help="comma-separated solver names")
    speed.add_argument("--faces", default="1000,5000,20000,80000", help="face counts at 128 px")
    speed.add_argument("--sizes", default="64,128,256", help="image sizes at 5,000 faces")
    speed.add_argument("--steps", type=whole_number(TIMED_STEPS), default=30,
                       help=f"timed steps per combination, {TIMED_STEPS.describe()}")
    add_output_argument(speed, "--out", (".json",), "also write the results as JSON")
    speed.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")


def train_command(args: argparse.Namespace) -> int:
    from ...learn.run import run_training
    from ...procedural import load_mesh_set, training_mesh_sets
    from ...shape_variety import shape_variants
    from .training import Pose6DTask

    config = _train_config(args)
    train_meshes, validation_meshes = training_mesh_sets(args.meshes)
    added = load_mesh_set(args.add_meshes) if args.add_meshes else []
    train_meshes += added
    variants = shape_variants(train_meshes, config.variants, config.seed)
    training_set = {"meshes": args.meshes or "procedural", "added_meshes": args.add_meshes, "added": len(added),
                    "train": len(train_meshes), "variants": len(variants), "validation": len(validation_meshes),
                    "samples": config.samples, "seed": config.seed, "rotation_range_deg": [0, 40]}
    return run_training(Pose6DTask(config, train_meshes + variants, validation_meshes, training_set), args.out)


def _train_config(args: argparse.Namespace) -> Pose6DTrainConfig:
    from ...learn.run import solver_train_config
    from .training import LEARNED_KINDS, Pose6DTrainConfig

    return solver_train_config(Pose6DTrainConfig, args, LEARNED_KINDS)


def _check_train_output(args: argparse.Namespace) -> None:
    """--out can hold the checkpoint, and no earlier run's checkpoint is replaced without --force (the
    directory itself is locked while the run trains: engine.learn.train)."""
    check_output_directory(args.out, "--out")
    from ...learn.train import checkpoint_path

    check_new(checkpoint_path(args.out, "pose6d", _train_config(args).solver_name), "--out", args.force)


def bench_accuracy(args: argparse.Namespace) -> int:
    from ...procedural import load_mesh_set
    from .bench import accuracy_benchmark

    spec = get_problem("pose6d")
    names = spec.parse_solvers(args.solvers)
    options = solver_options(args, spec, names)
    image_size = IMAGE_SIZE.check("--size", args.size)
    rotation_range = _parse_range(args.rotation_range) if args.rotation_range else None
    meshes = load_mesh_set(args.meshes, args.split)
    device = str(default_device())

    def run(solvers: list[str], rotations: tuple[float, float] | None) -> Comparison:
        return accuracy_benchmark(
            spec, solvers, args.n, meshes, seed=args.seed, rotation_range_deg=rotations, image_size=image_size,
            solver_options=options, device=device,
            on_solver_done=lambda name, s: print(f"{name}: done, {s['batch_seconds']:.1f} s", file=sys.stderr))

    say = tables_unless_json(args)
    comparison = run(names, rotation_range)
    summaries = summarize(spec, comparison)
    source = args.meshes or f"procedural {args.split} split"
    results = {"problem": "pose6d", "n": args.n, "meshes": source, "seed": args.seed,
               "rotation_range_deg": rotation_range or [0, 40], "solvers": summaries}
    say(f"pose6d: {args.n} problems on {source}, rotations {rotation_range or (0, 40)} deg, seed {args.seed}\n")
    say(markdown_table(spec, summaries))
    say(speedups(summaries, [n for n in summaries if n in LEARNED_SOLVERS],
                 [n for n in summaries if n not in LEARNED_SOLVERS]))

    learned = [name for name in names if name in LEARNED_SOLVERS]
    if learned:
        per_step = {name: errors_after_steps(spec, comparison.traces[name], (1, 3, 5)) for name in learned}
        results["errors_after_steps"] = per_step
        say(f"\nError after k steps ({steps_caption(spec)}):\n")
        say(steps_table(spec, per_step))
        split = {name: time_split(comparison.traces[name]) for name in learned}
        results["time_split_ms"] = split
        say("\nLearned solve per problem, batch of {}: ".format(args.n) + "; ".join(
            f"{name} {t['render_ms']:.1f} ms pyrender + {t['network_ms']:.1f} ms network" for name, t in split.items()))
    if args.unseen and learned:
        unseen = {}
        for low, high in UNSEEN_RANGES:
            unseen[f"{low:g}-{high:g}"] = summarize(spec, run(learned, (low, high)))
        results["unseen_rotations"] = unseen
        say("\nUnseen rotation ranges (trained on 0-40 degrees):\n")
        say(markdown_table(spec, {f"{name} {label}": rows[name] for label, rows in unseen.items() for name in learned}))
    write_results(args, results)
    return 0


def time_split(trace: Trace) -> dict[str, float]:
    """A learned solver's ms per problem in pyrender and in its networks over the whole solve (the step info the
    solver records, shared out over the batch)."""
    return {key: float(np.nansum(trace.info[key], axis=0).mean()) for key in ("render_ms", "network_ms")}


def _parse_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--rotation-range {text!r}: expected 'lo,hi' in degrees, e.g. 40,45") from None
    if not 0 <= low <= high <= 180:
        raise ValueError(f"--rotation-range {text!r}: need 0 <= lo <= hi <= 180")
    return low, high


def bench_speed(args: argparse.Namespace) -> int:
    from .bench import pyrender_timing, step_timings, timing_table

    spec = get_problem("pose6d")
    names = spec.parse_solvers(args.solvers)
    faces = whole_numbers(args.faces, "--faces", FACE_COUNTS)
    sizes = whole_numbers(args.sizes, "--sizes", IMAGE_SIZE)
    device = str(default_device())
    combinations = [(count, 128) for count in faces] + [(5000, size) for size in sizes if size != 128]
    timings = step_timings(spec, names, list(dict.fromkeys(combinations)), steps=args.steps, device=device)
    by_faces = [t for t in timings if t.image_size == 128]
    by_size = [t for t in timings if t.requested_faces == 5000]
    pyrender_ms = pyrender_timing()
    say = tables_unless_json(args)
    say(f"device: {device}, torch threads: {torch.get_num_threads()}\n")
    say("Step time vs faces (128 px):\n" + timing_table(by_faces) + "\n")
    say("Step time vs image size (5,000 faces):\n" + timing_table(by_size) + "\n")
    say(f"pyrender silhouette, 128 px, 5,000 faces: {pyrender_ms:.2f} ms per render")
    write_results(args, {"device": device, "by_faces": [asdict(t) for t in by_faces],
                          "by_size": [asdict(t) for t in by_size], "pyrender_ms": pyrender_ms})
    return 0

