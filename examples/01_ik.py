"""Inverse kinematics of a human skeleton: Adam, L-BFGS and Levenberg-Marquardt on the same target joints.

Shows a problem that shares nothing with silhouettes: x is 24 axis-angle joint rotations, the observation the
(24, 3) target joint positions, the forward process forward kinematics. The batch is a few poses of the test
split (or the frames of a BVH file); LM's per-iteration damping, accepted flag and gain ratio are printed for
the first pose, as the app's teach panel shows them.

    python examples/01_ik.py [--poses 8] [--motion clip.bvh] [--record ik.gif]
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
    parser.add_argument("--poses", type=int, default=8, help="poses of the test split to solve")
    parser.add_argument("--motion", help="a BVH file: solve its frames instead (--poses of them, evenly spread)")
    parser.add_argument("--iterations", type=int, default=500, help="iteration limit of every solver")
    parser.add_argument("--record", help="write the first pose's animation here (.gif or .mp4)")
    args = parser.parse_args()

    spec = get_problem("ik")
    inputs = {"motion": spec.inputs[0].load(args.motion)}
    config = spec.config(frames=str(args.poses))
    problem = spec.make(config, inputs, "cpu", None if args.motion else args.poses)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    observation = problem.forward(truth)
    comparison = run_comparison(spec, problem, observation, ["adam", "lbfgs", "lm"], ground_truth=truth,
                                solver_options={"max_iterations": args.iterations})
    print(markdown_table(spec, summarize(spec, comparison)))
    lm = comparison.traces["lm"]
    for t in range(min(8, lm.num_iterations)):
        print(f"lm iteration {t}: energy {lm.energy[t, 0]:.3g}, damping {lm.info['damping'][t, 0]:.2g}, "
              f"accepted {bool(lm.info['accepted'][t, 0])}, gain ratio {lm.info['gain_ratio'][t, 0]:.2f}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
