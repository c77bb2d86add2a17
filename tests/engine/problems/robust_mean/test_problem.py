"""robust-mean: the process, the energy and its residuals, the candidate search, the loaded observations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.problems.registry import get_problem
from engine.problems.robust_mean import log_sigma_of
from engine.problems.robust_mean.problem import RobustMeanConfig, RobustMeanProblem, rbf_energy, rbf_residuals
from engine.problems.robust_mean.solvers import energy_minimum, lowest_energy_sample

SPEC = get_problem("robust-mean")


def problems(batch: int, device="cpu", sigma: float = 5.0, **config) -> RobustMeanProblem:
    return RobustMeanProblem.draw(RobustMeanConfig(**config), batch, torch.tensor(math.log(sigma)), device)


def test_forward_moves_the_inliers_with_the_mean_and_keeps_the_outliers(device):
    problem = problems(3, device)
    low, high = problem.forward(torch.zeros(3, 1, device=device)), problem.forward(torch.full((3, 1), 7.0, device=device))
    moved = (high - low).abs() > 1e-4
    assert low.shape == (3, 110) and (moved.sum(1) == 10).all()
    torch.testing.assert_close((high - low)[moved], torch.full((30,), 7.0, device=device))
    assert not (moved[:, :10].all(1)).any(), "the inliers are shuffled among the outliers"


def test_energy_is_the_papers_shifted_and_the_sum_of_squared_residuals(device):
    samples = torch.randn(4, 20, device=device, dtype=torch.float64) * 10
    t = torch.randn(4, 1, device=device, dtype=torch.float64)
    log_sigma = torch.tensor(1.3, dtype=torch.float64, device=device)
    papers = -torch.exp(-((samples - t) / log_sigma.exp()).square()).sum(1)
    torch.testing.assert_close(rbf_energy(t, samples, log_sigma), papers + 20)
    torch.testing.assert_close(rbf_residuals(t, samples, log_sigma).square().sum(1), papers + 20)


def test_residuals_are_smooth_through_a_sample(device):
    samples = torch.zeros(1, 1, dtype=torch.float64, device=device)
    t = torch.tensor([[1e-5]], dtype=torch.float64, device=device, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t_: rbf_residuals(t_, samples, torch.tensor(0.5, dtype=torch.float64,
                                                                                       device=device)), (t,))


def test_candidate_search_finds_the_lowest_energy_sample_in_chunks(monkeypatch):
    samples = torch.tensor([[-30.0, 1.0, 1.5, 2.0, 25.0], [9.0, 9.2, 9.1, -3.0, 0.0]])
    expected = torch.tensor([[1.5], [9.1]])
    log_sigma = torch.tensor(0.0)
    torch.testing.assert_close(lowest_energy_sample(samples, log_sigma), expected)
    monkeypatch.setattr("engine.problems.robust_mean.solvers.CANDIDATE_CHUNK", 3)
    torch.testing.assert_close(lowest_energy_sample(samples, log_sigma), expected)


def test_the_minimum_is_a_stationary_point_near_the_inliers():
    problem = problems(64, outliers=20)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    samples = problem.forward(truth)
    minimum = energy_minimum(problem, samples)
    with torch.enable_grad():
        t = minimum.clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(problem.energy(samples, samples, t).sum(), t)
    assert gradient.abs().max() < 1e-2  # float32: the energy (about 100) cannot see a smaller step
    assert (minimum - truth).abs().median() < 2.0


def test_the_energy_setting_reads_untrained_shipped_and_user_files(tmp_path):
    from engine.learn.energy_weights import save_energy_weights

    assert float(log_sigma_of(RobustMeanConfig(energy="untrained", untrained_sigma=7.0))) == pytest.approx(math.log(7))
    assert 0.1 < float(log_sigma_of(RobustMeanConfig()).exp()) < 1000
    path = tmp_path / "mine.safetensors"
    save_energy_weights(path, "robust-mean", {"log_sigma": torch.tensor(1.5)}, {})
    assert float(log_sigma_of(RobustMeanConfig(energy=str(path)))) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="no such energy weights file.*feedbacklab train robust-mean"):
        log_sigma_of(RobustMeanConfig(energy=str(tmp_path / "missing.safetensors")))
    foreign = tmp_path / "foreign.safetensors"
    save_energy_weights(foreign, "tracker-fusion", {"log_sigma": torch.tensor(1.5)}, {})
    with pytest.raises(ValueError, match="of problem 'tracker-fusion', not 'robust-mean'"):
        log_sigma_of(RobustMeanConfig(energy=str(foreign)))
    wrong = tmp_path / "wrong.safetensors"
    save_energy_weights(wrong, "robust-mean", {"log_sigma": torch.ones(2)}, {})
    with pytest.raises(ValueError, match="do not fit this energy"):
        log_sigma_of(RobustMeanConfig(energy=str(wrong)))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a file of weights")
    with pytest.raises(ValueError, match="not a safetensors energy weights file"):
        log_sigma_of(RobustMeanConfig(energy=str(junk)))
    nan = tmp_path / "nan.safetensors"
    save_energy_weights(nan, "robust-mean", {"log_sigma": torch.tensor(float("nan"))}, {})
    with pytest.raises(ValueError, match="NaN or infinite weights"):
        log_sigma_of(RobustMeanConfig(energy=str(nan)))


@pytest.mark.parametrize("contents, message", [
    (np.zeros((2, 3, 4), np.float32), r"expected samples of shape \(N,\) or \(B, N\)"),
    (np.array([1.0, np.nan], np.float32), "NaN or infinite"),
    (np.array(["a", "b"]), r"expected samples of shape.*<U1"),
])
def test_bad_observation_files_are_one_line(tmp_path, contents, message):
    path = tmp_path / "samples.npy"
    np.save(path, contents)
    with pytest.raises(ValueError, match=message):
        SPEC.load_observation(str(path))
    with pytest.raises(ValueError, match="no such observation file"):
        SPEC.load_observation(str(tmp_path / "none.npy"))
    with pytest.raises(ValueError, match=r"\.npy arrays of samples"):
        SPEC.load_observation(str(tmp_path / "samples.txt"))
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="samples.npy|pickled.npy"):
        SPEC.load_observation(str(pickled))


def test_observation_round_trip_and_estimates(tmp_path):
    path = tmp_path / "samples.npy"
    SPEC.save_observation(str(path), np.arange(5, dtype=np.float32))
    np.testing.assert_array_equal(SPEC.load_observation(str(path)), np.arange(5, dtype=np.float32)[None])
    torch.testing.assert_close(SPEC.parse_x("1.5, -2", None), torch.tensor([[1.5], [-2.0]]))
    assert SPEC.parse_x(SPEC.format_x(np.array([3.25])), None).item() == 3.25
    for text in ("", "abc", "nan", "1,inf"):
        with pytest.raises(ValueError, match="give a finite number t"):
            SPEC.parse_x(text, None)
