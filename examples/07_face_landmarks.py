"""Face fitting to 2D landmarks (learning-to-fit, Sec. 3.3, Table 7): synthetic faces of the shipped face model
(a random identity, a few expressions, the head turned) seen by a calibrated camera, their 68 landmarks fitted by
Levenberg-Marquardt and L-BFGS from the mean face facing the camera, and by the learned fitter where its checkpoint
ships (assets/checkpoints/face-landmarks-lf.safetensors, made by `feedbacklab train face-landmarks`).

Shows Table 7's point: the landmarks pin down the face's shape (small errors after Procrustes alignment, PA) far
better than its depth (large absolute errors). The recording shows the fitted face from the camera with its
landmarks, and from the side beside the truth.

    python examples/07_face_landmarks.py [--faces 8] [--iterations 50] [--record face.gif]
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
    parser.add_argument("--faces", type=int, default=8, help="synthetic test faces to fit")
    parser.add_argument("--iterations", type=int, default=50, help="iteration limit of LM and L-BFGS")
    parser.add_argument("--seed", type=int, default=0, help="seed of the faces")
    parser.add_argument("--record", help="write the first face's animation here")
    args = parser.parse_args()

    spec = get_problem("face-landmarks")
    problem = spec.make(spec.config(), {}, "cpu", args.faces)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed))
    comparison = run_comparison(spec, problem, problem.forward(truth), list(spec.default_solvers),
                                ground_truth=truth, solver_options={"max_iterations": args.iterations})
    print(f"\n{args.faces} faces, 68 landmarks each:\n{markdown_table(spec, summarize(spec, comparison))}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record, problem=problem)} frames)")


if __name__ == "__main__":
    main()
