"""A Gaussian mixture prior on SMPL body poses, used as SMPLify uses it (Bogo et al. 2016): the max-mixture energy.

A pose is the 69 axis-angle numbers of SMPL joints 1-23 (the root's global orientation is left out). Component k
has weight w_k, mean mu_k and precision Lambda_k = P_k P_k^T, P_k upper triangular (the inverse transpose of the
covariance's Cholesky factor), so the whitened residual is r_k = P_k^T (theta - mu_k) and
    -log(w_k N(theta; mu_k, Sigma_k)) = 0.5 |r_k|^2 + c_k + const,   c_k = -log w_k - 0.5 log det Lambda_k.
The constants are shifted so that min_k c_k = 0. SMPLify replaces the mixture's -log sum_k by its largest term:
    energy(theta) = min_k 0.5 |r_k|^2 + c_k  >= 0,
a sum of squares (the best component's sqrt(0.5) r_k and sqrt(c_k)) that Gauss-Newton and LM can use, exact
where the mixture is dominated by one component.

The mixture is fitted by EM from k-means clusters (engine.clustering), in float64, each covariance regularised by
REGULARISATION * I; the shipped one (assets/body/pose_prior.npz) by scripts/fit_body_prior.py on the IK
problem's train split.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from ..clustering import kmeans
from ..npfiles import NumpyFileError, read_npz
from ..outputs import atomic_path
from .model import DEFAULT_BODY
from .skeleton import NUM_JOINTS

FORMAT = "feedbacklab-smpl-pose-gmm-1"
DEFAULT_POSE_PRIOR = DEFAULT_BODY.with_name("pose_prior.npz")
POSE_DIM = 3 * (NUM_JOINTS - 1)
"""69: SMPL joints 1-23 as axis-angle."""
REGULARISATION = 1e-4
"""Added to the diagonal of each component's covariance, rad^2 (a standard deviation of 0.6 degrees): a component
may hold fewer poses than its 69 dimensions, or joints that do not move in its poses (the pose library's), and its
covariance would be singular; 0.6 degrees is far below any difference between poses that matters."""
TOLERANCE = 1e-3
"""EM stops once the mean log-likelihood per pose rises by less than this in a step (nats; scikit-learn's default).
On the IK train split (box-uniform sampler poses with no clusters to find) it keeps creeping up by about 1e-3 a
step for a hundred steps while the max-mixture energy of held-out poses does not fall."""
MAX_CONDITION = 1e6
"""A P_k whose largest and smallest singular values differ more than this is refused as singular (float32 numbers
cannot hold a finer one); the shipped prior's are about 20."""


def _bad_file(path: Path, why: str) -> ValueError:
    return ValueError(f"{str(path)!r} is not a usable SMPL pose prior ({why}); make one with "
                      "scripts/fit_body_prior.py")


def _flat_poses(poses: torch.Tensor, dim: int = POSE_DIM) -> torch.Tensor:
    """(B, dim) floating-point poses from (B, dim) or (B, dim / 3, 3) (SMPL's: (B, 69) or (B, 23, 3)); ValueError
    for any other shape or NaN/inf."""
    joints = dim // 3
    if not (poses.ndim == 2 and poses.shape[1] == dim) and not (poses.ndim == 3 and poses.shape[1:] == (joints, 3)):
        raise ValueError(f"body poses must have shape (B, {dim}) or (B, {joints}, 3), SMPL joints 1-{joints} as "
                         f"axis-angle without the root (drop a full pose's first joint), got {tuple(poses.shape)}")
    if not poses.is_floating_point():
        poses = poses.float()
    if not bool(torch.isfinite(poses).all()):
        raise ValueError("body poses contain NaN or infinite values")
    return poses.reshape(len(poses), dim)


def _whiten(poses: torch.Tensor, means: torch.Tensor, precision_cholesky: torch.Tensor) -> torch.Tensor:
    """(B, K, D) r_k = P_k^T (theta - mu_k) of poses (B, D) for every component."""
    return torch.einsum("bkd,kde->bke", poses[:, None] - means, precision_cholesky)


class PosePrior:
    """The max-mixture Gaussian prior on SMPL body poses (module docstring). means (K, D), precision_cholesky
    (K, D, D) and weights (K,) are float32 on the CPU, as saved; constants (K,) the shifted c_k, float64. D is
    69 (SMPL joints 1-23), or fewer for a marginal (`marginal`)."""

    def __init__(self, means: torch.Tensor, precision_cholesky: torch.Tensor, weights: torch.Tensor,
                 metadata: dict | None = None) -> None:
        """ValueError (one line) where the arrays do not make a mixture: shapes, NaN/inf, weights not positive or
        not summing to 1, a singular P_k."""
        k = len(means)
        d = precision_cholesky.shape[-1] if precision_cholesky.ndim == 3 else POSE_DIM
        if k < 1 or means.shape != (k, d) or precision_cholesky.shape != (k, d, d) or weights.shape != (k,):
            raise ValueError(f"means must be (K, {d}), precision_cholesky (K, {d}, {d}) and weights (K,) with "
                             f"K >= 1, got {tuple(means.shape)}, {tuple(precision_cholesky.shape)} and "
                             f"{tuple(weights.shape)}")
        self.means = means.detach().cpu().float()
        self.precision_cholesky = precision_cholesky.detach().cpu().float()
        self.weights = weights.detach().cpu().float()
        if not all(bool(torch.isfinite(a).all()) for a in (self.means, self.precision_cholesky, self.weights)):
            raise ValueError("means, precision_cholesky and weights must be finite")
        if bool((self.weights <= 0).any()) or abs(float(self.weights.double().sum()) - 1.0) > 1e-4:
            raise ValueError(f"weights must be positive and sum to 1, got {self.weights.tolist()}")
        singular = torch.linalg.svdvals(self.precision_cholesky.double())
        condition = singular[:, 0] / singular[:, -1]
        if not bool((condition < MAX_CONDITION).all()):
            raise ValueError(f"precision_cholesky {int(condition.argmax())} is singular (its precision is not "
                             "positive definite)")
        constants = -self.weights.double().log() - torch.linalg.slogdet(self.precision_cholesky.double()).logabsdet
        self.constants = constants - constants.min()
        self.metadata = dict(metadata or {})
        self._cache: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    @property
    def components(self) -> int:
        return len(self.means)

    @property
    def dim(self) -> int:
        """D: the pose numbers the prior reads."""
        return self.means.shape[1]

    def marginal(self, dims: list[int] | tuple[int, ...]) -> PosePrior:
        """The prior of the pose numbers `dims` alone (in that order), exactly: each component's marginal Gaussian,
        mean mu_k[dims] and covariance Sigma_k[dims, dims] (Sigma_k = (P_k P_k^T)^-1), the weights unchanged.
        SMPL+H's body (SMPL joints 1-21) is dims 0-62."""
        index = torch.as_tensor(list(dims), dtype=torch.long)
        if not len(index) or len(set(index.tolist())) != len(index) or int(index.min()) < 0 \
                or int(index.max()) >= self.dim:
            raise ValueError(f"marginal dims must be distinct indices below {self.dim}, got {list(dims)[:8]}")
        precision_cholesky = self.precision_cholesky.double()
        covariance = torch.linalg.inv(precision_cholesky @ precision_cholesky.transpose(1, 2))
        cholesky = torch.linalg.cholesky(covariance[:, index][:, :, index])
        identity = torch.eye(len(index), dtype=torch.float64)
        marginal_cholesky = torch.linalg.solve_triangular(cholesky, identity, upper=False).transpose(1, 2)
        return PosePrior(self.means[:, index], marginal_cholesky, self.weights,
                         {**self.metadata, "marginal_dims": index.tolist()})

    @classmethod
    def fit(cls, poses: torch.Tensor, components: int = 8, seed: int = 0, iterations: int = 100,
            metadata: dict | None = None) -> PosePrior:
        """EM on poses (N, 69) or (N, 23, 3), N >= components, from k-means clusters (k-means++ seeded by `seed`,
        so a seed gives the same prior on a machine), for at most `iterations` steps or until the mean
        log-likelihood rises by less than TOLERANCE. metadata (JSON-serialisable) is kept with the fit's own
        figures (count, components, seed, iterations, log-likelihood)."""
        x = _flat_poses(poses).double()
        if components < 1 or len(x) < components or iterations < 1:
            raise ValueError(f"fitting {components} components needs components >= 1, at least as many poses (got "
                             f"{len(x)}) and iterations >= 1 (got {iterations})")
        responsibilities = torch.nn.functional.one_hot(kmeans(x, components, seed), components).to(x)
        previous = -math.inf
        for step in range(1, iterations + 1):
            weights, means, precision_cholesky = _maximise(x, responsibilities)
            log_joint = (-0.5 * _whiten(x, means, precision_cholesky).square().sum(-1) + weights.log()
                         + torch.linalg.slogdet(precision_cholesky).logabsdet - 0.5 * POSE_DIM * math.log(2 * math.pi))
            log_likelihood = torch.logsumexp(log_joint, 1, keepdim=True)
            responsibilities = (log_joint - log_likelihood).exp()
            mean_log_likelihood = float(log_likelihood.mean())
            if mean_log_likelihood - previous < TOLERANCE:
                break
            previous = mean_log_likelihood
        weights, means, precision_cholesky = _maximise(x, responsibilities)
        figures = {"count": len(x), "components": components, "seed": seed, "iterations": step,
                   "mean_log_likelihood": round(mean_log_likelihood, 4), "regularisation_rad2": REGULARISATION}
        return cls(means, precision_cholesky, weights, {**(metadata or {}), **figures})

    def _parameters(self, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        key = (like.device, like.dtype)
        if key not in self._cache:
            self._cache[key] = tuple(a.to(like) for a in (self.means, self.precision_cholesky, self.constants))
        return self._cache[key]

    def residuals(self, pose: torch.Tensor) -> torch.Tensor:
        """(B, D + 1): the best component's sqrt(0.5) r_k (D), then sqrt(c_k), so that residuals.square().sum(1) is
        the energy. Differentiable (the choice of component is piecewise constant) and usable inside
        torch.func.jacfwd / jacrev, not inside vmap over the batch (the NaN check reads values). pose (B, D) or
        (B, D / 3, 3); on its device, in its floating dtype (float32 for others)."""
        return self._best(pose)[0]

    def linearized(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """residuals(pose) (B, D + 1) and their Jacobian with respect to the pose (B, D + 1, D): the best component's
        sqrt(0.5) P_k^T (its constant's row is zero)."""
        residuals, best = self._best(pose)
        precision_cholesky = self._parameters(residuals)[1]
        jacobian = math.sqrt(0.5) * precision_cholesky[best].transpose(1, 2)
        return residuals, torch.cat([jacobian, jacobian.new_zeros(len(pose), 1, self.dim)], 1)

    def _best(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The residuals and the index (B,) of each pose's best component."""
        pose = _flat_poses(pose, self.dim)
        means, precision_cholesky, constants = self._parameters(pose)
        whitened = _whiten(pose, means, precision_cholesky)
        best = (0.5 * whitened.square().sum(-1) + constants).argmin(1)
        chosen = whitened.gather(1, best[:, None, None].expand(-1, 1, self.dim))[:, 0]
        return torch.cat([math.sqrt(0.5) * chosen, constants[best, None].sqrt()], 1), best

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        """(B,) min_k 0.5 |r_k|^2 + c_k >= 0, computed as residuals(pose).square().sum(1) so the two agree exactly."""
        return self.residuals(pose).square().sum(1)

    def save(self, path: str | Path) -> None:
        """Writes an .npz, atomically (engine.outputs): format, means, precision_cholesky, weights (float32) and
        metadata as a JSON string."""
        with atomic_path(path) as temporary, open(temporary, "wb") as file:
            np.savez(file, format=np.array(FORMAT), means=self.means.numpy(),
                     precision_cholesky=self.precision_cholesky.numpy(), weights=self.weights.numpy(),
                     metadata=np.array(json.dumps(self.metadata, sort_keys=True)))

    @classmethod
    def load(cls, path: str | Path = DEFAULT_POSE_PRIOR) -> PosePrior:
        """Reads a file written by save (default: assets/body/pose_prior.npz); ValueError with one line naming the
        file, what is wrong and what to do otherwise. Never unpickles."""
        path = Path(path)
        if not path.is_file():
            raise _bad_file(path, "no such file")
        try:
            arrays = read_npz(path)
        except NumpyFileError as error:
            raise _bad_file(path, str(error)) from None
        if "format" not in arrays or str(arrays["format"]) != FORMAT:
            raise _bad_file(path, f"no {FORMAT!r} format entry")
        names = ("means", "precision_cholesky", "weights")
        missing = [name for name in names if name not in arrays or arrays[name].dtype.kind != "f"]
        if missing:
            raise _bad_file(path, f"needs floating-point arrays {', '.join(missing)}")
        try:
            metadata = json.loads(str(arrays.get("metadata", "{}")))
        except json.JSONDecodeError:
            raise _bad_file(path, "its metadata is not JSON") from None
        if not isinstance(metadata, dict):
            raise _bad_file(path, "its metadata is not a JSON object")
        try:
            return cls(*(torch.from_numpy(arrays[name]) for name in names), metadata)
        except ValueError as error:
            raise _bad_file(path, str(error)) from None


def _maximise(x: torch.Tensor, responsibilities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EM's M-step: weights (K,), means (K, D) and P_k (K, D, D) of the regularised covariances, from poses x (N, D)
    and responsibilities (N, K)."""
    counts = responsibilities.sum(0) + 10 * torch.finfo(x.dtype).eps  # an emptied component stays finite
    means = responsibilities.T @ x / counts[:, None]
    identity = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    precision_cholesky = []
    for k in range(len(means)):
        centred = x - means[k]
        covariance = (responsibilities[:, k, None] * centred).T @ centred / counts[k] + REGULARISATION * identity
        cholesky = torch.linalg.cholesky(covariance)
        precision_cholesky.append(torch.linalg.solve_triangular(cholesky, identity, upper=False).T)
    return counts / counts.sum(), means, torch.stack(precision_cholesky)
