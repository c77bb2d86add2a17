"""Running a training task from the command line: torch.distributed when torchrun started the process, the
device, progress bars on stderr, and the one line naming the checkpoint written."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import torch
import torch.distributed as dist

from ..device import default_device
from .train import TrainingTask, train


def run_training(task: TrainingTask, out_dir: str) -> int:
    """Trains `task` into out_dir (engine.learn.train.train) and prints the checkpoint's path (rank 0)."""
    from tqdm import tqdm

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
        path = train(task, out_dir, progress, log=lambda message: print(message, file=sys.stderr), device=device)
    finally:
        for bar in bars:
            bar.close()
        if distributed:
            dist.destroy_process_group()
    if not distributed or int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote {path}")
    return 0


def solver_train_config(config_class: type, args: argparse.Namespace, kinds: dict[str, tuple[bool, bool]]) -> Any:
    """The training config of a `train NAME --solver KIND` command's flags: the kind's (feedback, shared) from
    `kinds`, and exactly one step for a kind without feedback (a regression baseline)."""
    from ..problems.spec import config_from_arguments

    feedback, shared = kinds[args.solver]
    if not feedback and args.config_steps not in (None, "1"):
        raise ValueError(f"--steps {args.config_steps}: --solver {args.solver} has exactly one step; leave --steps out")
    steps = {} if feedback else {"steps": 1}
    return config_from_arguments(config_class, args, feedback=feedback, shared=shared, **steps)
