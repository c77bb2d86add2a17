"""Fits the IK problem's Euler-angle prior on the IK training split and writes assets/ik/euler_prior.npz.

    python scripts/fit_ik_prior.py                 # 20000 training poses, seed 0
    python scripts/fit_ik_prior.py --count 5000 --out /tmp/prior.npz

The training split (engine/problems/ik/data.py) is the pose library, the walk cycle, then joint-limit sampler
poses; the validation, test and CMU poses are never read. The metadata entry (JSON) records the data used.
"""
from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.problems.ik.data import library_poses, split_poses, walk_cycle_poses  # noqa: E402
from engine.problems.ik.prior import DEFAULT_PRIOR, REGULARISATION, EulerPrior  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="training poses to fit on (default 20000)")
    parser.add_argument("--seed", type=int, default=0, help="the training split's seed (default 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_PRIOR, help="output .npz (default assets/ik/)")
    args = parser.parse_args()
    poses = split_poses("train", args.count, args.seed)
    library, walk = min(len(library_poses()), len(poses)), len(walk_cycle_poses())
    walk = min(walk, len(poses) - library)
    metadata = {
        "data": f"IK train split, seed {args.seed}: pose library, walk cycle, joint-limit sampler poses",
        "counts": {"library": library, "walk-cycle": walk, "sampler": len(poses) - library - walk},
        "split_seed": args.seed,
        "sampler_seed": 3 * args.seed,
        "euler": "intrinsic XYZ of each local rotation, radians, not wrapped",
        "regularisation_rad2": REGULARISATION,
        "date": datetime.date.today().isoformat(),
    }
    prior = EulerPrior.fit(poses, metadata)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    prior.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) from {len(poses)} poses")


if __name__ == "__main__":
    main()
