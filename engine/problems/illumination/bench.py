"""`feedbacklab bench illumination`: the paper's Table 4 (directional and point light: steps, time, MSE mean and
median, outliers), supplementary Table 2 (the feedback solver's error after 1, 3 and 7 steps) and Table 3 (shared
against per-step networks), on the same sampled problems for every solver, and the cost of one NMR-style step
at 256 px on a 5,000-face mesh. Markdown on stdout, JSON with --json / --out."""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import torch
import trimesh

from ...bounds import integer
from ...cli_support import SEED_NUMBER, add_output_argument, tables_unless_json, whole_number, write_results
from ...compare import run_comparison
from ...meshes import Mesh, mesh_from_trimesh
from ...procedural import cycled_meshes, load_mesh_set
from ...render.pyrender_shaded import LIGHT_KINDS
from ...summary import errors_after_steps, markdown_table, speedups, steps_caption, steps_table, summarize
from ...trace import Comparison
from ..registry import get_problem
from .meshes import wound_outwards
from .problem import IlluminationConfig, IlluminationProblem, hemisphere_lights, random_rotations

SOLVERS = {"directional": ("nmr", "regression", "feedback", "feedback-shared", "feedback+nmr"),
           "point": ("nmr-point", "nmr", "regression", "feedback", "feedback-shared", "feedback+nmr")}
"""What each light's table compares by default: NMR's directional renderer on both (on a point light it is the
wrong model, as NMR would be) and the point-light renderer where it is the right one."""
LEARNED = ("regression", "feedback", "feedback-shared")
UNROLLED = (1, 3, 7)
TIMING_FACES = 5000
TIMED_STEPS = 20
PROBLEMS = integer(1, 100_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=whole_number(PROBLEMS), default=100, help="problems per light kind")
    parser.add_argument("--meshes", help="meshes to test on, files and/or directories, comma-separated (default: "
                                         "the procedural split)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"), help="the procedural split")
    parser.add_argument("--light", default=",".join(LIGHT_KINDS), help="comma-separated light kinds")
    parser.add_argument("--solvers", help="comma-separated solvers for every light kind (default: each kind's "
                                          "table of the paper)")
    parser.add_argument("--max-iterations", type=whole_number(integer(1, 100_000)),
                        help="optimizers' iteration limit (default: their stopping rule's 500)")
    parser.add_argument("--seed", type=SEED_NUMBER, default=0, help="seed of rotations and lights")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")


def _lights(text: str) -> list[str]:
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in LIGHT_KINDS]
    if unknown or not kinds:
        raise ValueError(f"--light {text!r}: choose from {', '.join(LIGHT_KINDS)}")
    return list(dict.fromkeys(kinds))


def sample_problems(meshes: list[Mesh], n: int, seed: int, config: IlluminationConfig
                    ) -> tuple[IlluminationProblem, torch.Tensor, torch.Tensor]:
    """n problems cycling through the meshes (shuffled by seed) at uniform rotations, lights on the camera's half
    unit sphere: the problem batch, ground truth and observations. The same seed gives the same problems for
    either light kind."""
    generator = torch.Generator().manual_seed(seed)
    chosen = cycled_meshes(meshes, n, generator)
    problem = IlluminationProblem.for_meshes(chosen, random_rotations(n, generator), config)
    truth = hemisphere_lights(n, generator)
    return problem, truth, problem.forward(truth)


def nmr_step_ms(light: str) -> float:
    """Median ms of one NMR-style step (render, energy, gradient) at 256 px on a 5,000-face mesh, batch of one."""
    sphere = trimesh.creation.icosphere(subdivisions=4)  # 5,120 faces
    keep = sphere.faces[:TIMING_FACES]
    mesh = wound_outwards(mesh_from_trimesh(trimesh.Trimesh(sphere.vertices, keep, process=False),
                                            f"sphere-{TIMING_FACES}"))
    problem = IlluminationProblem.for_meshes(mesh, config=IlluminationConfig(light=light))
    observation = problem.forward(torch.tensor([[0.3, 0.4, 0.866]]))
    problem.surface()  # the visibility, computed once per problem
    times = []
    for _ in range(TIMED_STEPS + 3):
        x = torch.tensor([[0.0, 0.0, 1.0]], requires_grad=True)
        started = time.perf_counter()
        energy = problem.energy(problem.forward_differentiable(x), observation, x)
        energy.sum().backward()
        times.append(time.perf_counter() - started)
    return 1000.0 * sorted(times[3:])[TIMED_STEPS // 2]


def run(args: argparse.Namespace) -> int:
    spec = get_problem("illumination")
    kinds = _lights(args.light)
    chosen = spec.parse_solvers(args.solvers) if args.solvers else None
    meshes = [wound_outwards(mesh) for mesh in load_mesh_set(args.meshes, args.split)]
    source = args.meshes or f"procedural {args.split} split"
    options = {} if args.max_iterations is None else {"max_iterations": args.max_iterations}
    say = tables_unless_json(args)
    results: dict = {"problem": "illumination", "n": args.n, "meshes": source, "seed": args.seed,
                     "threads": torch.get_num_threads(), "lights": {}}
    say(f"illumination: {args.n} problems per light on {source} ({len(meshes)} meshes), seed {args.seed}, "
        f"{torch.get_num_threads()} threads\n")
    for kind in kinds:
        config = replace(IlluminationConfig(), light=kind)
        problem, truth, observation = sample_problems(meshes, args.n, args.seed, config)
        names = list(chosen or SOLVERS[kind])
        comparison: Comparison = run_comparison(
            spec, problem, observation, names, ground_truth=truth, keep_predictions=False, solver_options=options,
            meta={"meshes": [m.name for m in problem.meshes], "seed": args.seed},
            on_solver_done=lambda name, trace: print(f"{kind} {name}: done, {trace.elapsed[-1]:.1f} s",
                                                     file=sys.stderr, flush=True))
        summaries = summarize(spec, comparison)
        learned = [name for name in names if name in LEARNED]
        per_step = {name: errors_after_steps(spec, comparison.traces[name], UNROLLED)
                    for name in learned if name != "regression"}
        results["lights"][kind] = {"solvers": summaries, "errors_after_steps": per_step}
        say(f"\n## {kind} light (Table 4)\n")
        say(markdown_table(spec, summaries))
        say(speedups(summaries, learned, [name for name in names if name not in LEARNED]))
        if per_step:
            say(f"\nError after k steps (supplementary Table 2; {steps_caption(spec)}):\n")
            say(steps_table(spec, per_step))
    say("\n## Shared vs per-step networks (supplementary Table 3; MSE mean)\n")
    say(_shared_table(results["lights"]))
    timing = {kind: nmr_step_ms(kind) for kind in kinds}
    results["nmr_step_ms_256px_5000_faces"] = timing
    say("\nOne NMR-style step (render, energy, gradient), 256 px, 5,000 faces: "
        + ", ".join(f"{kind} {ms:.1f} ms" for kind, ms in timing.items()))
    write_results(args, results)
    return 0


def _shared_table(lights: dict) -> str:
    rows = [name for name in ("feedback-shared", "feedback")
            if any(name in light["solvers"] for light in lights.values())]
    lines = ["| Network | " + " | ".join(lights) + " |", "|---" * (len(lights) + 1) + "|"]
    for name in rows:
        cells = [f"{light['solvers'][name]['mse_mean']:.4f}" if name in light["solvers"] else "-"
                 for light in lights.values()]
        lines.append(f"| {'shared weights' if name == 'feedback-shared' else 'per-step weights'} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)
