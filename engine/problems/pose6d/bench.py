"""pose6d's benchmarks behind `feedbacklab bench pose6d` and `bench speed`: solver accuracy on sampled pose problems (the paper's Table 1) and
the cost of one optimizer step against face count and image size (the paper's Fig. 5)."""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch
import trimesh

from ...compare import run_comparison
from ...learn.checkpoint import CheckpointError
from ...meshes import Mesh, mesh_from_trimesh
from ...procedural import cycled_meshes, default_mesh
from ...render.softras import DEFAULT_SIGMA
from ...summary import summarize_trace
from ...trace import Comparison
from ..spec import ProblemSpec
from .problem import Pose6DConfig, Pose6DProblem


def sample_pose_problems(
    meshes: list[Mesh], n: int, seed: int, config: Pose6DConfig = Pose6DConfig(),
    rotation_range_deg: tuple[float, float] | None = None, device: str = "cpu",
) -> tuple[Pose6DProblem, torch.Tensor, torch.Tensor]:
    """n problems cycling through the meshes (shuffled by seed): the problem batch, ground truth, observations."""
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    generator = torch.Generator().manual_seed(seed)
    chosen = cycled_meshes(meshes, n, generator)
    problem = Pose6DProblem.for_meshes(chosen, config=config, device=device)
    ground_truth = problem.sample_ground_truth(generator, rotation_range_deg)
    return problem, ground_truth, problem.forward(ground_truth)


def accuracy_benchmark(
    spec: ProblemSpec, solver_names: list[str], n: int, meshes: list[Mesh], seed: int = 0,
    rotation_range_deg: tuple[float, float] | None = None, max_iterations: int | None = None,
    on_solver_done: Callable[[str, dict], None] | None = None, device: str = "cpu", image_size: int = 128,
    solver_options: dict | None = None,
) -> Comparison:
    """Every solver on the same n sampled problems, solved as one batch each."""
    config = replace(Pose6DConfig(), image_size=image_size)
    problem, ground_truth, observation = sample_pose_problems(meshes, n, seed, config, rotation_range_deg, device)
    options = dict(solver_options or {})
    if max_iterations is not None:
        options["max_iterations"] = max_iterations
    return run_comparison(
        spec, problem, observation, solver_names, ground_truth=ground_truth, keep_predictions=False,
        solver_options=options, meta={"meshes": [m.name for m in problem.meshes], "seed": seed},
        on_solver_done=None if on_solver_done is None
        else lambda name, trace: on_solver_done(name, summarize_trace(spec, trace)),
    )


@dataclass(frozen=True)
class StepTiming:
    solver: str
    requested_faces: int
    faces: int
    """The mesh's actual face count (simplification lands near the requested one)."""
    image_size: int
    ms_per_step: float
    """Render + gradient + update of one problem: the fastest round's median step."""


def mesh_with_faces(target: int) -> Mesh:
    """The default object subdivided, then simplified, to about `target` faces (the shape stays the same)."""
    base = default_mesh().to_trimesh()
    vertices, faces = base.vertices, base.faces
    while len(faces) < target:
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    if len(faces) > target:
        mesh = mesh.simplify_quadric_decimation(face_count=target)
    return mesh_from_trimesh(mesh, f"default-{target}")


def step_timings(
    spec: ProblemSpec, solver_names: list[str], combinations: list[tuple[int, int]], steps: int = 30, warmup: int = 5,
    rounds: int = 3, device: str = "cpu",
) -> list[StepTiming]:
    """ms per step for every solver at every (faces, image size) combination, all in one run (learned solvers
    only at their checkpoint's image size; SoftRas at the fixed sigma DEFAULT_SIGMA, since a step's cost grows
    with sigma and the optimizers' schedule spans 1e-3 to 1e-6). The
    combinations are measured in turn, `rounds` times over; each round gives the median of its steps and the
    fastest round is reported (as timeit does), so that slow spells of a shared machine do not count."""
    meshes = {count: mesh_with_faces(count) for count in dict.fromkeys(faces for faces, _ in combinations)}
    round_medians: dict[tuple[str, int, int], list[float]] = {}
    for _ in range(rounds):
        for faces, size in combinations:
            mesh = meshes[faces]
            problem = Pose6DProblem.for_meshes(mesh, 1, replace(Pose6DConfig(), image_size=size), device)
            # The same pose and path for every combination, so that only faces and size differ.
            ground_truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
            observation = problem.forward(ground_truth)
            for name in solver_names:
                solver = spec.make_solver(name, max_iterations=steps + warmup, steps=steps + warmup, patience=0,
                                          sigma=DEFAULT_SIGMA, sigma_final=DEFAULT_SIGMA)
                try:
                    records = list(solver.iterate(problem, observation, problem.initial_estimate()))
                except CheckpointError:  # a learned solver runs at its checkpoint's image size only
                    continue
                measured = [record.step_seconds for record in records][warmup:]
                round_medians.setdefault((name, faces, size), []).append(statistics.median(measured))
    return [StepTiming(name, faces, meshes[faces].num_faces, size, 1000 * min(rounds_median))
            for (name, faces, size), rounds_median in round_medians.items()]


def pyrender_timing(faces: int = 5000, image_size: int = 128, renders: int = 200) -> float:
    """ms per pyrender silhouette of one mesh at one pose (the mesh is already uploaded)."""
    problem = Pose6DProblem.for_meshes(mesh_with_faces(faces), 1, replace(Pose6DConfig(), image_size=image_size))
    x = problem.initial_estimate()
    problem.forward(x)
    started = time.perf_counter()
    for i in range(renders):
        x[0, 4] = 0.001 * math.sin(i)
        problem.forward(x)
    return 1000 * (time.perf_counter() - started) / renders


def timing_table(timings: list[StepTiming]) -> str:
    """Markdown: one row per (faces, size), one column per solver, ms per step."""
    solvers = list(dict.fromkeys(t.solver for t in timings))
    rows = list(dict.fromkeys((t.faces, t.image_size) for t in timings))
    lookup = {(t.solver, t.faces, t.image_size): t.ms_per_step for t in timings}
    lines = ["| Faces | Image | " + " | ".join(f"{s} (ms/step)" for s in solvers) + " |",
             "|---" * (len(solvers) + 2) + "|"]
    for faces, size in rows:
        cells = [f"{lookup[(s, faces, size)]:.1f}" if (s, faces, size) in lookup else "-" for s in solvers]
        lines.append(f"| {faces} | {size} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

