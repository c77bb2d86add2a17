"""JPEG deblocking (the deep feedback supplementary, Sec. 3): restore the JPEG of an image whose encoder has no
gradient, by the JPEG itself, total variation inside its quantisation set, DnCNN, and the feedback restorer
that re-encodes its estimate at every step.

With no --image the built-in procedural scene is the clean image; with a clean image it is compressed at
--quality; with a JPEG it is restored at the quality its tables tell (the PSNR columns then need the clean
image, which is unknown, and only the JPEG-consistency column is filled).

    python examples/05_jpeg.py [--image photo.png] [--quality 10] [--record jpeg.gif]
"""
from __future__ import annotations

import argparse

import torch

from engine.compare import run_comparison
from engine.problems.jpeg.files import load_image_input
from engine.problems.registry import get_problem
from engine.problems.spec import loaded_observation
from engine.record import record_comparison
from engine.summary import markdown_table, summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", help="a clean image or a JPEG (default: the built-in scene)")
    parser.add_argument("--quality", type=int, default=10, help="JPEG quality factor for a clean image")
    parser.add_argument("--size", type=int, default=192, help="side of the built-in scene")
    parser.add_argument("--record", help="write the animation of the restorers' steps here")
    args = parser.parse_args()

    spec = get_problem("jpeg")
    config = spec.config(quality=args.quality, scene_size=args.size)
    problem = spec.make(config, {"image": load_image_input(args.image)}, "cpu", 1)
    observation = loaded_observation(problem)
    truth = None if observation is not None else problem.sample_ground_truth(torch.Generator())
    observation = problem.forward(truth) if observation is None else observation
    comparison = run_comparison(spec, problem, observation, ["jpeg", "tv", "dncnn", "feedback"], ground_truth=truth)
    print(f"\nquality {problem.quality}, {'x'.join(map(str, problem.shape[1:]))} pixels:\n"
          f"{markdown_table(spec, summarize(spec, comparison))}")
    if args.record:
        print(f"wrote {args.record} ({record_comparison(comparison, args.record)} frames)")


if __name__ == "__main__":
    main()
