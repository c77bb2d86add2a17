"""The built-in demo problem, shared by the app's `demo` and its headless fallback: the default mesh, an
observation rendered from a seeded random pose, and a few solvers of both kinds side by side."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

import torch

from .compare import run_comparison
from .device import default_device
from .problems.registry import get_problem
from .problems.spec import Problem
from .record import record_comparison
from .trace import Comparison

DEMO_PROBLEM = "pose6d"
DEMO_SOLVERS = ("nmr", "softras", "feedback")
DEMO_MAX_ITERATIONS = 300
DEMO_SEED = 0
DEMO_RECORDING = "demo.gif"
"""Where `feedbacklab demo` records without a display, unless told otherwise (never over an existing file)."""


def demo_comparison(solvers: tuple[str, ...] = DEMO_SOLVERS, seed: int = DEMO_SEED,
                    max_iterations: int = DEMO_MAX_ITERATIONS, image_size: int = 128) -> tuple[Comparison, Problem]:
    """Solves the demo problem with every solver, as the app's demo does; returns the comparison and the problem
    (for its rendered pictures)."""
    spec = get_problem(DEMO_PROBLEM)
    problem = spec.make(replace(spec.config(), image_size=image_size), {}, default_device(), 1)
    ground_truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
    observation = problem.forward(ground_truth)
    comparison = run_comparison(spec, problem, observation, list(solvers), ground_truth=ground_truth,
                                solver_options={"max_iterations": max_iterations},
                                meta={"mesh": problem.meshes[0].name, "observation": f"random pose (seed {seed})"})
    return comparison, problem


def record_demo(path: str | os.PathLike, solvers: tuple[str, ...] = DEMO_SOLVERS, seed: int = DEMO_SEED,
                progress: Callable[[int, int], None] | None = None) -> int:
    """The demo recorded to a .gif or .mp4 instead of shown (no display); returns the number of frames."""
    comparison, problem = demo_comparison(solvers, seed)
    return record_comparison(comparison, path, progress=progress, problem=problem)
