"""Wibergian learning on the paper's RanSaC example: learn the RBF width sigma through the energy's minimum.

Shows the argmin layer (engine.learn.argmin) used directly: each step finds the minima of
E(t) = sum_i 1 - exp(-(x_i - t)^2 / sigma^2) with a workbench solver (the lowest-energy sample refined by
trust-region Newton), makes them differentiable in log sigma by the damped implicit derivative
-(H + lambda I)^-1 d(dE/dt)/dsigma, and takes an SGD step on the squared error to the true means. Then the
untrained and the learned energy are compared with the mean and median on held-out problems.

    python examples/02_robust_mean.py [--steps 300] [--lambda 0.1] [--record robust-mean.gif]
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile

import torch

from engine.compare import run_comparison
from engine.learn.argmin import ArgminSettings, argmin
from engine.learn.energy_weights import save_energy_weights
from engine.problems.registry import get_problem
from engine.problems.robust_mean.problem import RobustMeanConfig, RobustMeanProblem, rbf_energy
from engine.problems.robust_mean.solvers import energy_minimum
from engine.record import record_comparison
from engine.summary import markdown_table, summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="SGD steps on log sigma")
    parser.add_argument("--lambda", dest="damping", type=float, default=0.1, help="the layer's damping")
    parser.add_argument("--record", help="write the first held-out problem's animation here (.gif or .mp4)")
    args = parser.parse_args()

    log_sigma = torch.tensor(math.log(60.0), requires_grad=True)
    optimizer = torch.optim.SGD([log_sigma], lr=3e-6, momentum=0.99)
    for step in range(args.steps):
        problem = RobustMeanProblem.draw(RobustMeanConfig(draw_seed=step), 8, log_sigma.detach())
        truth = problem.sample_ground_truth(torch.Generator().manual_seed(step))
        samples = problem.forward(truth)
        minimum = energy_minimum(problem, samples)
        layer = argmin(lambda t, weights: rbf_energy(t, samples, weights[0]), minimum, [log_sigma],
                       ArgminSettings(damping=args.damping))
        loss = (layer.y - truth).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"sigma 60 -> {float(log_sigma.detach().exp()):.3g} after {args.steps} steps (lambda {args.damping:g})")

    spec = get_problem("robust-mean")
    with tempfile.TemporaryDirectory() as scratch:
        learned = os.path.join(scratch, "sigma.safetensors")
        save_energy_weights(learned, "robust-mean", {"log_sigma": log_sigma}, {"data": "examples/02_robust_mean.py"})
        for label, energy in (("untrained (sigma 60)", "untrained"), ("learned", learned)):
            config = RobustMeanConfig(energy=energy, draw_seed=12345)
            test = spec.make(config, {}, "cpu", 200)
            truth = test.sample_ground_truth(torch.Generator().manual_seed(12345))
            comparison = run_comparison(spec, test, test.forward(truth), ["mean", "median", "candidates+newton"],
                                        ground_truth=truth)
            print(f"\n{label} energy:\n{markdown_table(spec, summarize(spec, comparison))}")
            if args.record and energy == learned:
                print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
