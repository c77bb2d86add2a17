"""Tracker fusion (Wibergian learning, Sec. 4): one box from 72 simulated trackers, by a robust energy before and
after its weights were learned through its minima.

Shows a problem whose energy, not its solver, is what is learned: the same solvers (median fusion, the best
single tracker, and the paper's fusion: the lowest-energy RBF centre refined by L-BFGS) run on test frames of
the sequence split under the untrained energy and under the shipped learned one
(assets/wibergian/tracker-fusion.safetensors, made by `feedbacklab train tracker-fusion`).

    python examples/03_tracker_fusion.py [--frames 32] [--record fusion.gif]
"""
from __future__ import annotations

import argparse

import torch

from engine.compare import run_comparison
from engine.problems.registry import get_problem
from engine.record import record_comparison
from engine.summary import markdown_table, summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="test frames to fuse")
    parser.add_argument("--record", help="write the first frame's animation under the learned energy here")
    args = parser.parse_args()

    spec = get_problem("tracker-fusion")
    for energy in ("untrained", "trained"):
        config = spec.config(energy=energy)
        problem = spec.make(config, {}, "cpu", args.frames)
        truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
        comparison = run_comparison(spec, problem, problem.forward(truth), list(spec.default_solvers),
                                    ground_truth=truth)
        print(f"\n{energy} energy, {args.frames} test frames:\n{markdown_table(spec, summarize(spec, comparison))}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
