"""The problem: its config, forward process, energy checks, metrics and ground truths."""
import pytest
import torch

from engine.problems.pose_from_2d.data import category_poses, DETECTOR_OFFSETS
from engine.problems.pose_from_2d.problem import Pose2DConfig, make_problem, mpjpe_mm
from engine.problems.pose_from_2d import model

from .conftest import instances


def test_forward_is_the_projection_plus_the_items_own_detector_draws():
    problem, truth, observation = instances(4, 3)
    assert observation.shape == (3, 4, 17, 2)
    torch.testing.assert_close(problem.forward(truth), observation)  # deterministic
    clean = model.project(truth, 4, DETECTOR_OFFSETS)
    errors = (observation - clean).norm(dim=-1)
    assert 2.0 < errors.median() < 20.0
    again = make_problem(problem.config, 3)
    torch.testing.assert_close(again.forward(truth), observation)  # the config's detector seed
    other = make_problem(Pose2DConfig(energy="untrained", detector_seed=1), 3)
    assert not torch.allclose(other.forward(truth), observation)


def test_metrics_against_the_truth():
    problem, truth, observation = instances(4, 2)
    metrics = problem.metrics(truth, observation, observation, truth)
    torch.testing.assert_close(metrics["mpjpe_mm"], torch.zeros(2))
    moved = truth.clone()
    moved[:, 1:4] += 0.5  # the root's position does not count (root-aligned)
    torch.testing.assert_close(mpjpe_mm(moved, truth), torch.zeros(2))
    moved[:, 4:] += 0.01
    torch.testing.assert_close(mpjpe_mm(moved, truth), torch.full((2,), 10 * 3 ** 0.5 * 16 / 17))
    assert set(problem.metrics(truth, observation, observation, None)) == {"reprojection_px"}


def test_an_observation_of_another_rig_is_refused():
    problem, truth, observation = instances(4, 1)
    with pytest.raises(ValueError, match="1 camera.*--cameras 4"):
        problem.energy(observation, observation[:, :1], truth)


@pytest.mark.parametrize("values, message", [({"cameras": 2}, "--cameras 2: choose 1"),
                                             ({"poses": "dance"}, "--poses 'dance': choose one of")])
def test_bad_configs_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        Pose2DConfig(**values)


@pytest.mark.parametrize("poses", ["library", "walk"])
def test_ground_truths_of_every_category(poses):
    problem = make_problem(Pose2DConfig(energy="untrained", poses=poses), 5)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    assert truth.shape == (5, 52) and torch.isfinite(truth).all()
    assert truth[:, 0].abs().max() <= torch.pi and (truth[:, 2] > 0.8).all()


def test_the_cmu_category_needs_its_clips(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACKLAB_CMU_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="--poses cmu needs the CMU clips"):
        category_poses("cmu")


def test_the_initial_estimate_is_the_mean_pose_at_the_target():
    problem = make_problem(Pose2DConfig(energy="untrained"), 2)
    x0 = problem.initial_estimate()
    assert x0.shape == (2, 52)
    torch.testing.assert_close(x0[0, 1:4], torch.tensor([0.0, 0.9, 0.0]))


def test_subset_indexes_the_detector_draws():
    problem, truth, observation = instances(1, 4)
    part = problem.subset(torch.tensor([3, 1]))
    torch.testing.assert_close(part.forward(truth[[3, 1]]), observation[[3, 1]])
