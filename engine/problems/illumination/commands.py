"""The illumination problem's subcommands: `train illumination` (the learned solvers' stage-wise trainer) and
`bench illumination` (the paper's Table 4 and supplementary Tables 2 and 3)."""
from __future__ import annotations

import argparse

from ...cli_support import add_check, add_force_argument
from ..spec import add_config_arguments

TRAINED_SOLVERS = ("feedback", "feedback-shared", "regression")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import IlluminationTrainConfig

    parser.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    parser.add_argument("--solver", default="feedback", choices=TRAINED_SOLVERS, help="the learned solver to train")
    parser.add_argument("--meshes", help="training meshes, files and/or directories, comma-separated; a tenth is "
                                         "held out for validation (default: the procedural train/val splits)")
    add_config_arguments(parser, IlluminationTrainConfig, exclude=("shared", "feedback"))
    add_force_argument(parser)
    add_check(parser, _check_train_output)


def train_config(args: argparse.Namespace):
    from ...learn.run import solver_train_config
    from .training import LEARNED_KINDS, IlluminationTrainConfig

    return solver_train_config(IlluminationTrainConfig, args, LEARNED_KINDS)


def _check_train_output(args: argparse.Namespace) -> None:
    """The settings and --out are checked before any problem is rendered."""
    from ...learn.train import checkpoint_path
    from ...outputs import check_new, check_output_directory

    config = train_config(args)
    check_output_directory(args.out, "--out")
    check_new(checkpoint_path(args.out, "illumination", config.solver_name), "--out", args.force)


def training_meshes(spec: str | None) -> tuple[list, list, dict]:
    """Training and validation meshes (wound outwards) and what the checkpoint records about them."""
    from ...procedural import training_mesh_sets
    from .meshes import wound_outwards

    train, validation = ([wound_outwards(mesh) for mesh in meshes] for meshes in training_mesh_sets(spec))
    return train, validation, {"meshes": spec or "procedural", "train": len(train), "validation": len(validation)}


def train_illumination(args: argparse.Namespace) -> int:
    from ...learn.run import run_training
    from .training import IlluminationTask

    config = train_config(args)
    train, validation, source = training_meshes(args.meshes)
    training_set = dict(source, samples=config.samples, seed=config.seed, rotations="uniform",
                        lights="half unit sphere, camera side")
    return run_training(IlluminationTask(config, train, validation, training_set), args.out)



def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .bench import add_arguments

    add_arguments(parser)


def bench_illumination(args: argparse.Namespace) -> int:
    from .bench import run

    return run(args)
