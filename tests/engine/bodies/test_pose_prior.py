import math
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from engine.bodies.pose_prior import DEFAULT_POSE_PRIOR, FORMAT, POSE_DIM, PosePrior
from engine.bodies.poses import pose_library

TRUE_WEIGHTS = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
TRUE_STDS = (0.1, 0.2, 0.3)


def true_means() -> torch.Tensor:
    means = torch.zeros(3, POSE_DIM, dtype=torch.float64)
    means[0, :23], means[1, 23:46], means[2, 46:] = 1.5, -1.5, 1.0
    return means


def mixture_samples(count: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.multinomial(TRUE_WEIGHTS, count, replacement=True, generator=generator)
    noise = torch.randn(count, POSE_DIM, dtype=torch.float64, generator=generator)
    return true_means()[labels] + torch.tensor(TRUE_STDS, dtype=torch.float64)[labels, None] * noise


@pytest.fixture(scope="module")
def fitted() -> PosePrior:
    return PosePrior.fit(mixture_samples(900, seed=1), components=3, seed=0, metadata={"data": "synthetic"})


def test_fit_recovers_the_mixture(fitted):
    assert fitted.components == 3
    nearest = torch.cdist(true_means(), fitted.means.double()).argmin(1)
    assert sorted(nearest.tolist()) == [0, 1, 2]  # each true component found by its own
    assert float((fitted.means.double()[nearest] - true_means()).abs().max()) < 0.1
    torch.testing.assert_close(fitted.weights.double()[nearest], TRUE_WEIGHTS, atol=0.05, rtol=0)
    covariance = torch.linalg.inv(fitted.precision_cholesky.double() @ fitted.precision_cholesky.double().mT)
    variances = covariance.diagonal(dim1=1, dim2=2)[nearest].mean(1)
    torch.testing.assert_close(variances.sqrt(), torch.tensor(TRUE_STDS, dtype=torch.float64), rtol=0.1, atol=0)
    assert fitted.metadata["data"] == "synthetic" and fitted.metadata["count"] == 900
    assert float(fitted.constants.min()) == 0.0


def test_fit_is_deterministic_per_seed(fitted):
    again = PosePrior.fit(mixture_samples(900, seed=1), components=3, seed=0, metadata={"data": "synthetic"})
    assert torch.equal(again.means, fitted.means) and torch.equal(again.precision_cholesky, fitted.precision_cholesky)


def test_energy_is_the_max_mixture_and_the_residuals_square_sum(fitted):
    poses = torch.cat([mixture_samples(20, seed=2), 3 * torch.randn(5, POSE_DIM, dtype=torch.float64)]).float()
    energy, residuals = fitted.energy(poses), fitted.residuals(poses)
    assert energy.shape == (25,) and residuals.shape == (25, POSE_DIM + 1)
    assert bool((energy >= 0).all())
    assert torch.equal(energy, residuals.square().sum(1))
    precision = fitted.precision_cholesky.double() @ fitted.precision_cholesky.double().mT
    centred = poses.double()[:, None] - fitted.means.double()
    quadratic = 0.5 * torch.einsum("bki,kij,bkj->bk", centred, precision, centred)
    torch.testing.assert_close(energy.double(), (quadratic + fitted.constants).min(1).values, rtol=1e-4, atol=1e-4)


def test_gradient_matches_finite_differences(fitted):
    pose = mixture_samples(3, seed=3).requires_grad_()
    assert torch.autograd.gradcheck(fitted.energy, (pose,))
    assert torch.autograd.gradcheck(fitted.residuals, (pose,))


def test_residuals_under_jacfwd_as_the_generic_solvers_linearize(fitted):
    pose = mixture_samples(2, seed=4)
    jacobian = torch.func.jacfwd(fitted.residuals)(pose)  # (2, 70, 2, 69)
    assert jacobian.shape == (2, POSE_DIM + 1, 2, POSE_DIM)
    torch.testing.assert_close(jacobian, torch.autograd.functional.jacobian(fitted.residuals, pose))
    assert bool((jacobian[:, -1] == 0).all()) and bool((jacobian[0, :, 1] == 0).all())  # items independent


@pytest.mark.parametrize("batch", [1, 5])
def test_batch_shapes(fitted, batch):
    poses = mixture_samples(batch, seed=5).float()
    energy = fitted.energy(poses)
    assert energy.shape == (batch,) and energy.dtype == torch.float32
    assert fitted.residuals(poses).shape == (batch, POSE_DIM + 1)
    torch.testing.assert_close(fitted.energy(poses.reshape(batch, 23, 3)), energy)
    torch.testing.assert_close(fitted.energy(poses[:1]), energy[:1])


def test_dtypes():
    prior = PosePrior.load()
    assert prior.energy(torch.zeros(2, POSE_DIM, dtype=torch.float64)).dtype == torch.float64
    assert prior.energy(torch.zeros(2, POSE_DIM, dtype=torch.long)).dtype == torch.float32


@pytest.mark.parametrize("shape", [(5, 72), (5, 24, 3), (POSE_DIM,), (5, 23, 2), (2, 5, POSE_DIM)])
def test_bad_shapes(fitted, shape):
    with pytest.raises(ValueError, match=r"\(B, 69\) or \(B, 23, 3\)") as caught:
        fitted.energy(torch.zeros(shape))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_poses(fitted, value):
    poses = torch.zeros(3, POSE_DIM)
    poses[1, 7] = value
    with pytest.raises(ValueError, match="NaN or infinite"):
        fitted.residuals(poses)


def test_fit_needs_enough_poses():
    with pytest.raises(ValueError, match="at least as many poses"):
        PosePrior.fit(torch.zeros(2, POSE_DIM), components=3)


def test_save_load_round_trip(tmp_path, fitted):
    path = tmp_path / "pose_prior.npz"
    fitted.save(path)
    loaded = PosePrior.load(path)
    for name in ("means", "precision_cholesky", "weights", "constants"):
        assert torch.equal(getattr(loaded, name), getattr(fitted, name))
    assert loaded.metadata == fitted.metadata
    poses = mixture_samples(4, seed=6).float()
    assert torch.equal(loaded.energy(poses), fitted.energy(poses))


def archive(**changes: np.ndarray | None) -> Callable[[Path, PosePrior], None]:
    """A writer of the prior's .npz with some arrays replaced (None: left out)."""
    def write(path: Path, prior: PosePrior) -> None:
        arrays = {"format": np.array(FORMAT), "means": prior.means.numpy(),
                  "precision_cholesky": prior.precision_cholesky.numpy(), "weights": prior.weights.numpy(),
                  "metadata": np.array("{}"), **changes}
        np.savez(path, **{name: value for name, value in arrays.items() if value is not None})
    return write


def single_npy(path: Path, prior: PosePrior) -> None:
    with open(path, "wb") as file:  # np.save would add .npy to the name
        np.save(file, prior.weights.numpy())


BAD_FILES = {
    "missing": (lambda path, prior: None, "no such file"),
    "not-npz": (lambda path, prior: path.write_bytes(b"not an archive"), "neither a .npy array nor an .npz archive"),
    "npy": (single_npy, "single .npy array"),
    "no-format": (archive(format=None), "format entry"),
    "no-means": (archive(means=None), "needs floating-point arrays means"),
    "text-weights": (archive(weights=np.array(["a", "b", "c"])), "needs floating-point arrays weights"),
    "pickled": (archive(means=np.array([{"a": 1}], dtype=object)), "pickled data is never loaded"),
    "shape": (archive(means=np.zeros((3, 72), np.float32)), r"means must be \(K, 69\)"),
    "components": (archive(weights=np.full(2, 0.5, np.float32)), r"weights \(K,\)"),
    "nan": (archive(means=np.full((3, POSE_DIM), np.nan, np.float32)), "must be finite"),
    "weights": (archive(weights=np.array([1.5, -0.25, -0.25], np.float32)), "positive and sum to 1"),
    "singular": (archive(precision_cholesky=np.zeros((3, POSE_DIM, POSE_DIM), np.float32)), "not positive definite"),
    "metadata": (archive(metadata=np.array("{not json")), "not JSON"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files(tmp_path, fitted, case):
    write, problem = BAD_FILES[case]
    path = tmp_path / "pose_prior.npz"
    write(path, fitted)
    with pytest.raises(ValueError, match=problem) as caught:
        PosePrior.load(path)
    message = str(caught.value)
    assert "pose_prior.npz" in message and "scripts/fit_body_prior.py" in message and "\n" not in message


def test_a_failed_save_keeps_the_prior_that_was_there(tmp_path, fitted, full_disk):
    path = tmp_path / "pose_prior.npz"
    full_disk(path, lambda: fitted.save(path), np, "savez")


def test_shipped_prior_prefers_library_poses_to_absurd_ones():
    assert DEFAULT_POSE_PRIOR.stat().st_size < 1_000_000
    prior = PosePrior.load()
    assert prior.components == 8 and prior.metadata["count"] > 0
    assert {"data", "date", "seed", "components"} <= set(prior.metadata)
    library = torch.stack([pose[1:] for pose in pose_library().values()])
    absurd = torch.full((1, 23, 3), 2.0)  # every joint turned 200 degrees about the same skew axis
    assert float(prior.energy(library).max()) < float(prior.energy(absurd)[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(fitted):
    poses = mixture_samples(6, seed=7).float()
    on_gpu = poses.cuda().requires_grad_()
    energy = fitted.energy(on_gpu)
    energy.sum().backward()
    assert energy.device.type == "cuda" and on_gpu.grad.device.type == "cuda"
    torch.testing.assert_close(energy.cpu(), fitted.energy(poses), rtol=1e-4, atol=1e-4)


def test_marginal_is_each_components_marginal_gaussian():
    prior = PosePrior.load()
    body = prior.marginal(range(63))  # SMPL+H's body: SMPL joints 1-21
    assert body.dim == 63 and body.components == prior.components
    covariance = torch.linalg.inv(prior.precision_cholesky.double() @ prior.precision_cholesky.double().mT)
    marginal = torch.linalg.inv(body.precision_cholesky.double() @ body.precision_cholesky.double().mT)
    torch.testing.assert_close(marginal, covariance[:, :63, :63], rtol=1e-3, atol=1e-6)
    torch.testing.assert_close(body.means, prior.means[:, :63])
    torch.testing.assert_close(body.weights, prior.weights)
    poses = torch.stack(list(pose_library().values()))[:, 1:22].reshape(-1, 63)
    assert body.residuals(poses).shape == (len(poses), 64) and bool(torch.isfinite(body.energy(poses)).all())
    with pytest.raises(ValueError, match=r"\(B, 63\) or \(B, 21, 3\)"):
        body.energy(torch.zeros(2, POSE_DIM))
    with pytest.raises(ValueError, match="distinct indices below 69"):
        prior.marginal([0, 0])
