"""The paper's rotation prior for IK: a Gaussian on each joint's Euler angles, fitted on training poses.

Angles are intrinsic XYZ Euler angles of each local rotation matrix, R = Rx(a) Ry(b) Rz(c)
(engine.rotations.euler_to_matrix(angles, 'XYZ') is the inverse), a and c in (-pi, pi], b in [-pi/2, pi/2].
They are fitted and compared as they come from the conversion, without wrapping, as the paper describes.
Where a joint's angles straddle +-pi its Gaussian is wide and its residual jumps there: in the training split
that is the shoulders (14% of poses beyond |a| or |c| > 2.5 rad) and elbows (28%), whose large y rotations
come near gimbal lock (b = +-pi/2, where a and c are undefined) and flip a and c by pi; every other joint
stays within +-2.5 rad.
The covariance is regularised by (1 degree)^2 I so joints that barely move in the data (the root, which the
sampler keeps at rest) get a large but finite weight.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from engine.bodies.skeleton import NUM_JOINTS
from engine.outputs import atomic_path
from engine.rotations import axis_angle_to_matrix

from .kinematics import rotations_from_x

FORMAT = "feedbacklab-ik-euler-prior-1"
REGULARISATION = math.radians(1.0) ** 2
"""Added to the diagonal of each joint's covariance, rad^2."""
DEFAULT_PRIOR = Path(__file__).resolve().parents[3] / "assets" / "ik" / "euler_prior.npz"


def matrix_to_euler_xyz(matrix: torch.Tensor) -> torch.Tensor:
    """Intrinsic XYZ Euler angles (..., 3) of rotation matrices (..., 3, 3): R = Rx(a) Ry(b) Rz(c).
    Differentiable away from gimbal lock (b = +-pi/2)."""
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f"rotation matrices must have shape (..., 3, 3), got {tuple(matrix.shape)}")
    m = matrix
    cos_b = torch.sqrt((m[..., 0, 0] ** 2 + m[..., 0, 1] ** 2).clamp(min=torch.finfo(m.dtype).tiny))
    a = torch.atan2(-m[..., 1, 2], m[..., 2, 2])
    b = torch.atan2(m[..., 0, 2], cos_b)
    c = torch.atan2(-m[..., 0, 1], m[..., 0, 0])
    return torch.stack([a, b, c], -1)


def _bad_file(path: Path, why: str) -> ValueError:
    return ValueError(f"{str(path)!r} is not a usable IK Euler prior ({why}); make one with scripts/fit_ik_prior.py")


class EulerPrior:
    """A Gaussian per joint on its XYZ Euler angles: mean (24, 3) and inverse Cholesky factor (24, 3, 3) of the
    regularised covariance, so that whitened residuals r = L^{-1} (e - mean) give the energy 0.5 * sum r^2."""

    def __init__(self, mean: torch.Tensor, inverse_cholesky: torch.Tensor, metadata: dict | None = None) -> None:
        if mean.shape != (NUM_JOINTS, 3) or inverse_cholesky.shape != (NUM_JOINTS, 3, 3):
            raise ValueError(f"mean must be ({NUM_JOINTS}, 3) and inverse_cholesky ({NUM_JOINTS}, 3, 3), got "
                             f"{tuple(mean.shape)} and {tuple(inverse_cholesky.shape)}")
        self.mean = mean.double()
        self.inverse_cholesky = inverse_cholesky.double()
        self.metadata = dict(metadata or {})

    @classmethod
    def fit(cls, poses: torch.Tensor, metadata: dict | None = None) -> EulerPrior:
        """Fits on axis-angle poses (N, 24, 3), N >= 2; metadata (JSON-serialisable) is stored with it."""
        if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3) or poses.shape[0] < 2:
            raise ValueError(f"poses must have shape (N >= 2, {NUM_JOINTS}, 3), got {tuple(poses.shape)}")
        angles = matrix_to_euler_xyz(axis_angle_to_matrix(poses.double()))  # (N, 24, 3)
        mean = angles.mean(0)
        centred = angles - mean
        covariance = torch.einsum("nji,njk->jik", centred, centred) / (len(poses) - 1)
        covariance = covariance + REGULARISATION * torch.eye(3, dtype=covariance.dtype)
        inverse = torch.linalg.inv(torch.linalg.cholesky(covariance))
        return cls(mean, inverse, {**(metadata or {}), "count": len(poses)})

    @property
    def covariance(self) -> torch.Tensor:
        """(24, 3, 3) the regularised covariance, rad^2."""
        cholesky = torch.linalg.inv(self.inverse_cholesky)
        return cholesky @ cholesky.transpose(-1, -2)

    def whitened(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 72) residuals L^{-1} (e - mean) per joint of x (B, 72) axis-angle; the prior energy is
        0.5 * (whitened ** 2).sum(-1). On x's device and dtype."""
        return self.whitened_angles(matrix_to_euler_xyz(rotations_from_x(x)))

    def whitened_angles(self, angles: torch.Tensor) -> torch.Tensor:
        """(B, 72) residuals L^{-1} (e - mean) of Euler angles e (B, 24, 3) (see whitened)."""
        residual = angles - self.mean.to(angles)
        return (self.inverse_cholesky.to(angles) @ residual.unsqueeze(-1)).reshape(angles.shape[0], -1)

    def save(self, path: str | Path) -> None:
        """Writes an .npz, atomically (engine.outputs): mean, inverse_cholesky (float64), format and metadata as a
        JSON string."""
        with atomic_path(path) as temporary, open(temporary, "wb") as file:
            np.savez(file, format=np.array(FORMAT), mean=self.mean.numpy(),
                     inverse_cholesky=self.inverse_cholesky.numpy(),
                     metadata=np.array(json.dumps(self.metadata, sort_keys=True)))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PRIOR) -> EulerPrior:
        """Reads a file written by save (default: assets/ik/euler_prior.npz); ValueError with one line otherwise."""
        path = Path(path)
        if not path.is_file():
            raise _bad_file(path, "no such file")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError) as error:
            raise _bad_file(path, f"not an .npz archive: {type(error).__name__}") from None
        if "format" not in arrays or str(arrays["format"]) != FORMAT:
            raise _bad_file(path, f"no {FORMAT!r} format entry")
        mean, inverse = arrays.get("mean"), arrays.get("inverse_cholesky")
        if mean is None or inverse is None or mean.shape != (NUM_JOINTS, 3) or inverse.shape != (NUM_JOINTS, 3, 3) \
                or not (np.isfinite(mean).all() and np.isfinite(inverse).all()):
            raise _bad_file(path, f"needs finite mean ({NUM_JOINTS}, 3) and inverse_cholesky ({NUM_JOINTS}, 3, 3)")
        try:
            metadata = json.loads(str(arrays.get("metadata", "{}")))
        except json.JSONDecodeError:
            raise _bad_file(path, "its metadata is not JSON") from None
        return cls(torch.from_numpy(mean), torch.from_numpy(inverse), metadata)
