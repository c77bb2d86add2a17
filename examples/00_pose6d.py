"""6-DoF object pose from a silhouette: the NMR-style optimizer against the learned feedback solver.

Shows the problem contract from a script: the registry finds the problem, its spec builds a batch, samples a
ground truth, renders the observation with pyrender, runs solvers side by side and prints the paper-style
table; `--record` writes the side-by-side animation.

    python examples/00_pose6d.py [--iterations 100] [--record pose6d.gif]
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
    parser.add_argument("--iterations", type=int, default=100, help="iteration limit of the optimizer")
    parser.add_argument("--record", help="write the animation here (.gif or .mp4)")
    args = parser.parse_args()

    spec = get_problem("pose6d")
    problem = spec.make(spec.config(), {}, "cpu", 1)  # the built-in car, one problem
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    observation = problem.forward(truth)
    comparison = run_comparison(spec, problem, observation, ["nmr", "feedback"], ground_truth=truth,
                                solver_options={"max_iterations": args.iterations})
    print(markdown_table(spec, summarize(spec, comparison)))
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
