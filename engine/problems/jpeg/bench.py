"""The jpeg benchmark: the supplementary's table (PSNR / SSIM per quality factor of every restorer) on folders of
clean images, the feedback restorers' PSNR after each step, seconds per image as the workbench runs them, and
seconds per 512 x 512 image of each restorer alone, measured side by side in one run.

Every image is its own problem (its size is its own); each solver runs on the workbench's iteration interface,
so the numbers are those the app and `solve` show. Deep Image Prior costs minutes per image on a CPU (thousands
of Adam steps of a network as large as the image), so it runs on the first --dip-images images' centre crops
of --dip-crop pixels, with every other solver on the same crops beside it for a like-for-like row."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from .data import image_files
from .images import LoadedImage, read_image
from .problem import JpegConfig, JpegProblem, make_problem
from .quality_metrics import psnr, ssim

LEARNED_STEPS = ("feedback", "feedback-shared")
TEST_SET = "test images", "BSD68 and LIVE1 are in ../shared/data/images beside the project"
TIMING_SIDE = 512
TIMED_DIP_STEPS = 5
"""DIP's Adam steps timed on the 512 x 512 image (its full budget takes hours on a CPU)."""


def image_set(folder: str, colour: bool, limit: int) -> list[LoadedImage]:
    """The clean images of a folder (the first `limit`; 0: all), read as the problem reads an --image."""
    files = image_files(folder, TEST_SET)
    images = [read_image(path, colour=True) for path in (files[:limit] if limit else files)]
    return [replace(image, quality=None) for image in images]  # a clean set, even of JPEG files


def centre_crop(image: LoadedImage, side: int) -> LoadedImage:
    height, width = image.pixels.shape[:2]
    top, left = max((height - side) // 2, 0), max((width - side) // 2, 0)
    return replace(image, pixels=image.pixels[top:top + side, left:left + side])


@dataclass(frozen=True)
class Case:
    """One image's problem at one quality, with its clean image and JPEG, made once for every solver."""

    problem: JpegProblem
    truth: torch.Tensor
    observation: torch.Tensor


def make_case(config: JpegConfig, image: LoadedImage) -> Case:
    problem = make_problem(config, image)
    return Case(problem, problem.sample_ground_truth(torch.Generator()), problem.observation())


def run_solver(solver: Any, case: Case, every_record: bool) -> dict[str, Any]:
    """One solver on one image: PSNR and SSIM of every record (or of the last alone), the JPEG's PSNR, and the
    solver's seconds. The metrics are computed after the run, so the seconds are the solver's own."""
    problem, truth, observation = case.problem, case.truth, case.observation
    records = []
    for record in solver.iterate(problem, observation, problem.initial_estimate()):
        records = records + [record] if every_record else [record]
    estimates = torch.cat([problem.as_images(record.x) for record in records])
    clean = problem.as_images(truth).expand(len(records), -1, -1, -1)
    return {"psnr": psnr(estimates, clean).tolist(), "ssim": ssim(estimates, clean).tolist(),
            "jpeg_psnr": float(psnr(observation, clean[:1])[0]), "seconds": float(records[-1].elapsed)}


def bench_set(spec: Any, images: list[LoadedImage], qualities: list[int], solvers: list[str], colour: bool,
              options: dict[str, dict[str, Any]], progress: Any = None) -> dict[str, Any]:
    """Per quality and solver: mean PSNR / SSIM of the final estimates, per-step PSNR, seconds per image."""
    table: dict[str, Any] = {}
    for quality in qualities:
        cases = [make_case(JpegConfig(quality=quality, colour=colour), image) for image in images]
        rows: dict[str, Any] = {}
        for name in solvers:
            solver = spec.make_solver(name, **options.get(name, {}))
            every_record = spec.solver(name).kind != "optimizer"  # a few steps, not hundreds of iterations
            runs = [run_solver(solver, case, every_record) for case in cases]
            steps = min(len(run["psnr"]) for run in runs)
            rows[name] = {
                "psnr": float(np.mean([run["psnr"][-1] for run in runs])),
                "ssim": float(np.mean([run["ssim"][-1] for run in runs])),
                "psnr_by_step": [float(np.mean([run["psnr"][t] for run in runs])) for t in range(steps)],
                "seconds_per_image": float(np.mean([run["seconds"] for run in runs])),
                "jpeg_psnr": float(np.mean([run["jpeg_psnr"] for run in runs])),
            }
            if progress is not None:
                progress(f"q{quality} {name}: {rows[name]['psnr']:.2f} dB")
        table[str(quality)] = rows
    return table


def time_restorers(spec: Any, image: LoadedImage, quality: int, solvers: list[str], colour: bool,
                   dip_iterations: int) -> dict[str, float]:
    """Seconds each solver takes to restore one TIMING_SIDE x TIMING_SIDE image (the image tiled to fill it), the
    solvers measured one after another in this run: all its records (the feedback restorers' JPEG encodes and the
    JPEG-consistency metric of each record included); DIP's from TIMED_DIP_STEPS Adam steps scaled to
    `dip_iterations`."""
    side = TIMING_SIDE
    pixels = image.pixels
    reps = (-(-side // pixels.shape[0]), -(-side // pixels.shape[1]), 1)
    crop = replace(image, pixels=np.tile(pixels, reps)[:side, :side])
    problem = make_problem(JpegConfig(quality=quality, colour=colour), crop)
    observation = problem.observation()
    seconds = {}
    for name in solvers:
        if name == "dip":
            solver = spec.make_solver(name, max_iterations=1, adam_steps=TIMED_DIP_STEPS)
            scale = dip_iterations / TIMED_DIP_STEPS
        else:
            solver, scale = spec.make_solver(name), 1.0
        started = time.perf_counter()
        for _ in solver.iterate(problem, observation, problem.initial_estimate()):
            pass
        seconds[name] = (time.perf_counter() - started) * scale
    return seconds


def markdown(title: str, table: dict[str, Any], solvers: list[str]) -> str:
    """PSNR / SSIM per quality (rows: solvers), the step-by-step PSNR of the feedback restorers and the seconds."""
    qualities = list(table)
    lines = [f"**{title}**", "", "| Solver | " + " | ".join(f"q{q} PSNR / SSIM" for q in qualities) + " | s / image |",
             "|---|" + "---|" * (len(qualities) + 1)]
    for name in solvers:
        cells = [f"{table[q][name]['psnr']:.2f} / {table[q][name]['ssim']:.4f}" for q in qualities]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {table[qualities[0]][name]['seconds_per_image']:.2f} |")
    stepped = [name for name in solvers if name in LEARNED_STEPS]
    if stepped:
        lines += ["", "PSNR after step 1, 2, 3 (dB):", "", "| Solver | " + " | ".join(f"q{q}" for q in qualities)
                  + " |", "|---|" + "---|" * len(qualities)]
        for name in stepped:
            cells = [" / ".join(f"{v:.2f}" for v in table[q][name]["psnr_by_step"][1:]) for q in qualities]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def folder_name(folder: str) -> str:
    return os.path.basename(os.path.normpath(folder))
