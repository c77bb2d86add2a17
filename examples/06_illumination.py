"""Illumination estimation (the deep feedback paper, Sec. 5): where is the lamp? One RGB image of a known
object, rendered by pyrender with shadows, and the light's position recovered by Adam through an NMR-style
Lambertian renderer (no shadows), by the deep regression baseline, and by the feedback solver that re-renders
its estimate with pyrender at every step.

    python examples/06_illumination.py [--mesh chair-7] [--light directional|point] [--record light.gif]
"""
from __future__ import annotations

import argparse

import torch

from engine.compare import run_comparison
from engine.problems.illumination.meshes import resolve_lit_mesh
from engine.problems.registry import get_problem
from engine.record import record_comparison
from engine.summary import markdown_table, summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mesh", help="a mesh file or a procedural object such as chair-7 (default: a car)")
    parser.add_argument("--light", default="directional", choices=("directional", "point"))
    parser.add_argument("--size", type=int, default=256, help="image size in pixels")
    parser.add_argument("--iterations", type=int, default=500, help="Adam's iteration limit")
    parser.add_argument("--seed", type=int, default=0, help="seed of the true light")
    parser.add_argument("--record", help="write the animation of the solvers' steps here")
    args = parser.parse_args()

    spec = get_problem("illumination")
    config = spec.config(light=args.light, image_size=args.size)
    problem = spec.make(config, {"mesh": resolve_lit_mesh(args.mesh)}, "cpu", 1)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(args.seed))
    optimizer = "nmr" if args.light == "directional" else "nmr-point"
    comparison = run_comparison(spec, problem, problem.forward(truth), [optimizer, "regression", "feedback"],
                                ground_truth=truth, solver_options={"max_iterations": args.iterations})
    print(f"\n{args.light} light at {spec.format_x(truth[0].numpy())} on {problem.meshes[0].name}:\n"
          f"{markdown_table(spec, summarize(spec, comparison))}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
