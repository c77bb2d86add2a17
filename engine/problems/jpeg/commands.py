"""`feedbacklab bench jpeg`: the supplementary's JPEG table on folders of clean images (BSD68 and LIVE1 beside
the project), Markdown or JSON."""
from __future__ import annotations

import argparse
import sys

import torch

from ...cli_support import add_output_argument, tables_unless_json, write_results
from .codec import QUALITY

BENCH_SOLVERS = ("jpeg", "tv", "dncnn", "feedback", "feedback-shared", "dip")


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", required=True,
                        help="comma-separated folders of clean test images (../shared/data/images/BSD68,"
                             "../shared/data/images/LIVE1 beside the project)")
    parser.add_argument("--quality", default="10,20,30,40", help="comma-separated JPEG quality factors (1-100)")
    parser.add_argument("--solvers", default=",".join(BENCH_SOLVERS), help="comma-separated solvers")
    parser.add_argument("--limit", type=int, default=0, help="images per folder (default 0: all of them)")
    parser.add_argument("--colour", action="store_true", help="restore RGB (PSNR / SSIM on the luma) instead of grey")
    parser.add_argument("--dip-images", type=int, default=2,
                        help="images per folder Deep Image Prior restores, as centre crops (0: none)")
    parser.add_argument("--dip-crop", type=int, default=128, help="side of DIP's crops in pixels (16-512)")
    parser.add_argument("--dip-iterations", type=int, default=2400,
                        help="DIP's Adam steps, a multiple of 50 (the DIP paper's early stop for JPEG: 2,400)")
    add_output_argument(parser, "--out", (".json",), "also write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")


def parse_qualities(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--quality {text!r}: give comma-separated integers from 1 to 100") from None
    if not values or len(set(values)) != len(values):
        raise ValueError(f"--quality {text!r}: give each quality once")
    for value in values:
        QUALITY.check("--quality", value)
    return values


def bench_jpeg(args: argparse.Namespace) -> int:
    from . import SPEC
    from .bench import TIMED_DIP_STEPS, bench_set, centre_crop, folder_name, image_set, markdown, time_restorers
    from .solvers import DIP_STEPS_PER_RECORD

    qualities = parse_qualities(args.quality)
    solvers = SPEC.parse_solvers(args.solvers)
    folders = [folder.strip() for folder in args.images.split(",") if folder.strip()]
    if args.limit < 0 or args.dip_images < 0 or not 16 <= args.dip_crop <= 512:
        raise ValueError("--limit and --dip-images must be >= 0 and --dip-crop from 16 to 512")
    if args.dip_iterations < DIP_STEPS_PER_RECORD or args.dip_iterations % DIP_STEPS_PER_RECORD:
        raise ValueError(f"--dip-iterations {args.dip_iterations}: give a positive multiple of {DIP_STEPS_PER_RECORD}")
    options = {"dip": {"max_iterations": args.dip_iterations // DIP_STEPS_PER_RECORD}}
    sets = {folder_name(folder): image_set(folder, args.colour, args.limit) for folder in folders}
    for name in solvers:  # a checkpoint missing for a quality is said before hours of benchmarking
        solver = SPEC.make_solver(name)
        for quality in qualities if hasattr(solver, "for_quality") else ():
            solver.for_quality(quality)
    show = tables_unless_json(args)
    progress = None if args.json else (lambda text: print(text, file=sys.stderr, flush=True))
    whole = [name for name in solvers if name != "dip"]
    results = {"problem": "jpeg", "torch_threads": torch.get_num_threads(), "colour": args.colour,
               "qualities": qualities, "sets": {}, "dip_crops": {}}
    for name, images in sets.items():
        count = len(images)
        results["sets"][name] = {"images": count, "table": bench_set(SPEC, images, qualities, whole, args.colour,
                                                                     options, progress)}
        show(f"\n{markdown(f'{name}, {count} whole images', results['sets'][name]['table'], whole)}\n")
        if "dip" in solvers and args.dip_images:
            crops = [centre_crop(image, args.dip_crop) for image in images[:args.dip_images]]
            table = bench_set(SPEC, crops, qualities, solvers, args.colour, options, progress)
            results["dip_crops"][name] = {"images": len(crops), "crop": args.dip_crop, "table": table}
            title = (f"{name}, centre {args.dip_crop} x {args.dip_crop} crops of the first {len(crops)} images "
                     "(DIP beside every solver)")
            show(f"\n{markdown(title, table, solvers)}\n")
    first = next(iter(sets.values()))[0]
    results["seconds_per_512"] = time_restorers(SPEC, first, qualities[0], solvers, args.colour,
                                                args.dip_iterations)
    show(f"\nSeconds per 512 x 512 image at quality {qualities[0]}, one after another in this run "
         f"({torch.get_num_threads()} threads): " + ", ".join(f"{name} {seconds:.2f}" for name, seconds
                                                              in results["seconds_per_512"].items())
         + (f" (DIP: {TIMED_DIP_STEPS} Adam steps timed, scaled to {args.dip_iterations})" if "dip" in solvers
            else ""))
    write_results(args, results)
    return 0
