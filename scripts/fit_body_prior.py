"""Fits the SMPL body-pose mixture prior on the IK training split and writes assets/body/pose_prior.npz.

    python scripts/fit_body_prior.py                     # 20000 training poses, 8 components, seed 0
    python scripts/fit_body_prior.py --count 5000 --components 4 --out /tmp/pose_prior.npz

The training split (engine/problems/ik/data.py, split_poses('train')) is the pose library, the walk cycle, then
joint-limit sampler poses, the same on every machine; the validation, test and CMU poses are never read, nor the
motion capture that training_poses adds where it is installed. The root rotation is dropped. The metadata entry
(JSON) records the data used and the date; the script prints the fit's figures and the mean energy of held-out
test poses.
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.bodies.pose_prior import DEFAULT_POSE_PRIOR, PosePrior  # noqa: E402
from engine.problems.ik.data import library_poses, split_poses, walk_cycle_poses  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="training poses to fit on (default 20000)")
    parser.add_argument("--components", type=int, default=8, help="mixture components (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="the training split's and k-means' seed (default 0)")
    parser.add_argument("--out", type=Path, default=DEFAULT_POSE_PRIOR, help="output .npz (default assets/body/)")
    args = parser.parse_args()
    poses = split_poses("train", args.count, args.seed)[:, 1:]
    library = min(len(library_poses()), len(poses))
    walk = min(len(walk_cycle_poses()), len(poses) - library)
    metadata = {
        "data": f"IK train split, seed {args.seed}: pose library, walk cycle, joint-limit sampler poses; "
                "SMPL joints 1-23 (root dropped)",
        "counts": {"library": library, "walk-cycle": walk, "sampler": len(poses) - library - walk},
        "split_seed": args.seed,
        "sampler_seed": 3 * args.seed,
        "date": datetime.date.today().isoformat(),
    }
    start = time.perf_counter()
    prior = PosePrior.fit(poses, args.components, args.seed, metadata=metadata)
    seconds = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    prior.save(args.out)
    test = split_poses("test", 5000, args.seed)[:, 1:]
    print(f"fitted {prior.components} components on {len(poses)} poses in {seconds:.1f} s "
          f"({prior.metadata['iterations']} EM steps, mean log-likelihood {prior.metadata['mean_log_likelihood']})")
    print(f"weights {', '.join(f'{w:.3f}' for w in prior.weights.tolist())}")
    print(f"mean energy: train {float(prior.energy(poses).mean()):.2f}, "
          f"test split (5000, seed {args.seed}) {float(prior.energy(test).mean()):.2f}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
