"""3D human pose from 2D joints (Wibergian learning, Sec. 5): Tome et al.'s energy with a PPCA mixture pose
prior, before and after its bases, covariances, camera and Huber weights were learned through its minima.

Shows the same solvers (the closed-form search over yaws and models, that search refined by LM, and LM alone)
on the same detections under the untrained and the learned energy (the shipped
assets/wibergian/pose-from-2d-multi.safetensors or -mono, made by `feedbacklab train pose-from-2d`), with four
calibrated cameras or one.

    python examples/04_pose_from_2d.py [--poses 16] [--cameras 4] [--record pose.gif]
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
    parser.add_argument("--poses", type=int, default=16, help="test poses to reconstruct")
    parser.add_argument("--cameras", type=int, default=4, choices=(1, 4), help="calibrated cameras")
    parser.add_argument("--iterations", type=int, default=30, help="iteration limit of LM")
    parser.add_argument("--record", help="write the first pose's animation under the learned energy here")
    args = parser.parse_args()

    spec = get_problem("pose-from-2d")
    for energy in ("untrained", "trained"):
        config = spec.config(energy=energy, cameras=args.cameras)
        problem = spec.make(config, {}, "cpu", args.poses)
        truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
        comparison = run_comparison(spec, problem, problem.forward(truth), list(spec.default_solvers),
                                    ground_truth=truth, solver_options={"max_iterations": args.iterations})
        print(f"\n{energy} energy, {args.cameras} camera(s):\n{markdown_table(spec, summarize(spec, comparison))}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
