"""`feedbacklab bench tracker-fusion` (the paper's Table 1 on both partitions, Markdown or JSON) and
`feedbacklab train tracker-fusion` (the energy's weights by Wibergian learning, engine.learn.energy_training)."""
from __future__ import annotations

import argparse

import torch

from ...cli_support import (
    SEED_NUMBER, add_check, add_force_argument, add_output_argument, tables_unless_json, write_results,
)
from ...device import default_device
from ...outputs import check_output
from ..spec import add_config_arguments, config_from_arguments
from .splits import PARTITIONS


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partitions", default=",".join(PARTITIONS),
                        help="comma-separated partitions to benchmark: sequences (whole sequences to training or "
                             "test) and frames (frames missing at random)")
    parser.add_argument("--frames", type=int, default=0,
                        help="test frames per partition, spread over the test split (default 0: all of them)")
    parser.add_argument("--sequences", type=int, default=60, help="simulated sequences (the training data's 60)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of the simulated sequences (training: 0)")
    parser.add_argument("--energy", help="the learned fusion's weights file (default: the shipped one of each "
                                         "partition)")
    parser.add_argument("--undamped", help="the undamped-trained row's weights file (default: the shipped one of "
                                           "each partition, when present)")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")


def _partitions(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PARTITIONS]
    if unknown or not names or len(set(names)) != len(names):
        raise ValueError(f"--partitions {text!r}: choose from {', '.join(PARTITIONS)}, each once")
    return names


def bench_tracker_fusion(args: argparse.Namespace) -> int:
    from .bench import bench_partition, default_energies, markdown, table_one

    partitions = _partitions(args.partitions)
    if args.frames < 0 or not 3 <= args.sequences <= 2000:
        raise ValueError("--frames must be >= 0 (0: every test frame) and --sequences from 3 to 2000")
    device = default_device()
    show = tables_unless_json(args)
    results = {"problem": "tracker-fusion", "device": str(device), "torch_threads": torch.get_num_threads(),
               "partitions": {}}
    for partition in partitions:
        table = bench_partition(partition, args.sequences, args.seed, args.frames,
                                default_energies(partition, args.energy, args.undamped), device)
        results["partitions"][partition] = table
        show(f"\ntracker-fusion: {table['title'].lower()}, {table['test_frames']} test frames of {args.sequences} "
             f"simulated sequences (seed {args.seed}); best training tracker {table['best_training_tracker']}\n")
        show(markdown(table))
    show("\nLost: IoU below 0.5. Table 1 (IoU on the test frames):\n")
    show(table_one(results["partitions"]))
    write_results(args, results)
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .training import TrackerTrainConfig

    parser.add_argument("--out", help="the weights file (.safetensors; default: the shipped file of --partition, "
                                      "assets/wibergian/, replaced only with --force)")
    add_config_arguments(parser, TrackerTrainConfig)
    add_force_argument(parser)
    add_check(parser, lambda args: check_output(_train_out(args), (".safetensors",), "--out", args.force))


def _train_out(args: argparse.Namespace) -> str:
    """--out, or the shipped file of the partition (after the settings are checked)."""
    from .energy import TRAINED_FILES
    from .training import TrackerTrainConfig

    config = config_from_arguments(TrackerTrainConfig, args)
    return args.out or TRAINED_FILES[config.partition]


def train_tracker_fusion(args: argparse.Namespace) -> int:
    from ...learn.energy_training import train_energy
    from .training import TrackerFusionTask, TrackerTrainConfig

    config = config_from_arguments(TrackerTrainConfig, args)
    task = TrackerFusionTask(config)
    before = task.validate(task.initial_weights())
    run = train_energy(task, _train_out(args))
    after = run.meta["validation"]
    print(f"{run.meta['seconds']:.0f} s, {config.steps} steps of {config.batch_size} frames of "
          f"{len(task.training)} ({config.partition} partition), lambda {config.damping:g}: test IoU "
          f"{before['test_iou']:.3f} -> {after['test_iou']:.3f}, l1 {before['test_l1_px']:.2f} -> "
          f"{after['test_l1_px']:.2f} px; largest |dL/dw| {run.largest_gradient_norm:.3g}, "
          f"{run.meta['skipped_steps']} steps skipped" + (f", diverged at step {run.meta['diverged_at']}"
                                                          if run.meta["diverged_at"] is not None else ""))
    return 0
