"""The paper's Table 1 on the simulated trackers: for each partition (sequences or frames assigned at random), the
test frames' IoU, corner errors and lost share of the best five single trackers (ranked on the test frames, as
the paper's table), mean and median fusion, the best single tracker by training IoU, the untrained energy, the
energy trained with the undamped derivative (lambda 0, Samuel and Tappen) when its weights exist, and the learned
fusion. Every energy is minimised as the paper does: the lowest-energy RBF centre, then L-BFGS."""
from __future__ import annotations

import os
import time
from typing import Any

import torch

from ...summary import aggregate
from . import energy as fusion_energy
from .problem import METRICS, TrackerFusionConfig, TrackerFusionProblem, frames_problem
from .simulation import NUM_TRACKERS, simulate
from .solvers import SOLVERS, rbf_then
from .splits import split_frames

PARTITION_TITLES = {"frames": "Frames assigned at random", "sequences": "Sequences assigned at random"}
TOP_TRACKERS = 5
BASELINES = {"mean": "Mean fusion", "median": "Median fusion", "best-tracker": "Best single tracker (by training IoU)"}
UNDAMPED_FILES = {partition: path.replace(".safetensors", "-undamped.safetensors")
                  for partition, path in fusion_energy.TRAINED_FILES.items()}
"""Shipped weights trained with lambda 0, the rows of Samuel and Tappen's derivative."""


def metric_row(problem: TrackerFusionProblem, x: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """Every aggregate of every metric of estimates x (B, 4)."""
    values = problem.metrics(x, x, x, truth)
    return {f"{metric.key}_{name}": aggregate(metric, name, values[metric.key].cpu().numpy())
            for metric in METRICS for name in metric.aggregates}


def _timed(problem: TrackerFusionProblem, observation: torch.Tensor, solver: Any) -> dict[str, float]:
    started = time.perf_counter()
    x = solver.solve(problem, observation, problem.initial_estimate()).x
    seconds = time.perf_counter() - started
    return dict(metric_row(problem, x, problem.truth), ms_per_frame=1000 * seconds / problem.batch_size)


def evaluation_frames(config: TrackerFusionConfig, frames: int) -> torch.Tensor:
    """The partition's test frames, or `frames` of them spread evenly over the split (0: all)."""
    test = split_frames(simulate(config.simulation_seed, config.sequences), config.partition, "test",
                        config.simulation_seed)
    if 0 < frames < len(test):
        test = test[torch.linspace(0, len(test) - 1, frames).round().long()]
    return test


def bench_partition(partition: str, sequences: int, seed: int, frames: int, energies: dict[str, str | None],
                    device: torch.device | str = "cpu") -> dict[str, Any]:
    """The table of one partition; energies: row label -> --energy choice (None: the row is left out)."""
    config = TrackerFusionConfig(energy="untrained", partition=partition, sequences=sequences,
                                 simulation_seed=seed)
    problem = frames_problem(config, evaluation_frames(config, frames), device)
    observation = problem.forward(problem.truth)
    trackers = simulate(seed, sequences).population
    singles = {trackers.name(k): dict(metric_row(problem, observation[:, k, :4], problem.truth), kind="tracker")
               for k in range(NUM_TRACKERS)}
    ranked = sorted(singles, key=lambda name: -singles[name]["iou_mean"])[:TOP_TRACKERS]
    rows = {name: singles[name] for name in ranked}
    solvers = {entry.name: entry for entry in SOLVERS}
    for name, label in BASELINES.items():
        rows[label] = dict(_timed(problem, observation, solvers[name].factory()), kind="closed-form")
    for label, choice in energies.items():
        if choice is not None:
            energised = problem.with_weights({key: value.to(device) for key, value in
                                              fusion_energy.load_weights(choice, partition).items()})
            rows[label] = dict(_timed(energised, observation, rbf_then("lbfgs")), kind="energy",
                               weights=fusion_energy.weights_path(choice, partition) or "untrained")
    return {"title": PARTITION_TITLES[partition], "test_frames": problem.batch_size, "sequences": sequences,
            "seed": seed, "best_training_tracker": trackers.name(problem.best_tracker), "rows": rows}


def default_energies(partition: str, trained: str | None, undamped: str | None) -> dict[str, str | None]:
    """The energy rows: untrained, undamped-trained (when its file exists) and learned fusion."""
    undamped = undamped or UNDAMPED_FILES[partition]
    return {"Untrained energy": "untrained",
            "Undamped-trained energy (lambda 0, Samuel et al.)": undamped if os.path.isfile(undamped) else None,
            "Learned fusion (lambda 0.1)": trained or "trained"}


def markdown(table: dict[str, Any]) -> str:
    """One partition's rows with every metric."""
    columns = [(f"{metric.key}_{name}", metric.header(name), "{:.1f}" if metric.is_flag else metric.format)
               for metric in METRICS for name in metric.aggregates]
    lines = ["| Method | " + " | ".join(header for _, header, _ in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name, row in table["rows"].items():
        lines.append(f"| {name} | " + " | ".join(fmt.format(row[key]) for key, _, fmt in columns) + " |")
    return "\n".join(lines)


def table_one(tables: dict[str, dict[str, Any]]) -> str:
    """The paper's Table 1: the partitions side by side, method and IoU."""
    order = [p for p in ("frames", "sequences") if p in tables]
    header = " | ".join(f"{PARTITION_TITLES[p]} | IoU" for p in order)
    lines = [f"| {header} |", "|---" * (2 * len(order)) + "|"]
    rows = [list(tables[p]["rows"].items()) for p in order]
    for k in range(max(len(r) for r in rows)):
        cells = []
        for r in rows:
            name, row = r[k] if k < len(r) else ("", None)
            cells += [name, "" if row is None else f"{row['iou_mean']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

