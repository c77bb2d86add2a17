"""`feedbacklab train jpeg`: the feedback restorer (per-step or shared) or DnCNN, trained stage-wise on a folder of
clean images at one JPEG quality (or blind over 10-40)."""
from __future__ import annotations

import argparse

from ...cli_support import add_check, add_force_argument
from ..spec import add_config_arguments

TRAINED_SOLVERS = ("feedback", "feedback-shared", "dncnn")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import JpegTrainConfig

    parser.add_argument("--images", required=True,
                        help="folder of clean training images (BSD400: ../shared/data/images/Train400); its last "
                             "5%% of files are held out for validation")
    parser.add_argument("--out", required=True, help="directory for the checkpoint (and the resume state)")
    parser.add_argument("--solver", default="feedback", choices=TRAINED_SOLVERS, help="the learned solver to train")
    add_config_arguments(parser, JpegTrainConfig, exclude=("shared", "feedback"))
    add_force_argument(parser)
    add_check(parser, _check_train_output)


def train_config(args: argparse.Namespace):
    from ...learn.run import solver_train_config
    from .training import LEARNED_KINDS, JpegTrainConfig

    return solver_train_config(JpegTrainConfig, args, LEARNED_KINDS)


def _check_train_output(args: argparse.Namespace) -> None:
    """The settings, the image folder and --out are checked before any patch is made."""
    from ...learn.train import checkpoint_path
    from ...outputs import check_new, check_output_directory
    from .data import image_files

    train_config(args)
    image_files(args.images)
    check_output_directory(args.out, "--out")
    check_new(checkpoint_path(args.out, "jpeg", args.solver), "--out", args.force)


def train_jpeg(args: argparse.Namespace) -> int:
    from ...learn.run import run_training
    from .training import JpegTask

    return run_training(JpegTask(train_config(args), args.images), args.out)

