"""Tome et al.'s search (closed-form) and its refinement by the iterative solvers."""
import torch

from engine.problems.pose_from_2d import SPEC
from engine.problems.pose_from_2d.data import DETECTOR_OFFSETS
from engine.problems.pose_from_2d.problem import mpjpe_mm
from engine.problems.pose_from_2d.search import first_root, search
from engine.problems.pose_from_2d import model

from .conftest import instances


def _exact(problem):
    """The problem with the detector's true joint offsets and no noise or outliers."""
    exact = problem.with_weights(dict(problem.weights, joint_offsets=DETECTOR_OFFSETS))
    return type(problem)(exact.config, exact.weights, torch.zeros_like(problem.perturbation), problem.device)


def test_the_search_finds_four_camera_poses_that_the_refinement_finishes():
    problem, truth, _ = instances(4, 4, seed=1)
    problem = _exact(problem)
    observation = problem.forward(truth)
    found = search(problem, observation)
    assert mpjpe_mm(found, truth).mean() < 80
    refined = SPEC.make_solver("search+lm", max_iterations=30).solve(problem, observation,
                                                                     problem.initial_estimate(), truth)
    assert refined.metrics["mpjpe_mm"].max() < 15 and refined.metrics["reprojection_px"].max() < 1.0
    assert (refined.energy <= problem.energy(None, observation, truth) + 1e-3).all()


def test_the_first_root_is_near_the_truth():
    problem, truth, _ = instances(4, 6, seed=2)
    observation = _exact(problem).forward(truth)
    rotations, centres = model.camera_rig(4, torch.float32, torch.device("cpu"))
    assert (first_root(observation, rotations, centres) - truth[:, 1:4]).norm(dim=1).max() < 0.1


def test_one_camera_puts_the_first_root_on_the_pelvis_ray_at_about_its_depth():
    problem, truth, _ = instances(1, 6, seed=2)
    observation = _exact(problem).forward(truth)
    rotations, centres = model.camera_rig(1, torch.float32, torch.device("cpu"))
    root = first_root(observation, rotations, centres)
    x = truth.clone()
    x[:, 1:4] = root
    torch.testing.assert_close(model.project(x, 1)[:, 0, 0], observation[:, 0, 0], atol=1e-2, rtol=0)

    def depth(point):
        return -((point - centres[0]) @ rotations[0].T)[:, 2]

    ratio = depth(root) / depth(truth[:, 1:4])
    assert ((ratio > 0.75) & (ratio < 1.33)).all()


def test_the_search_is_one_step_of_a_closed_form_solver():
    problem, truth, observation = instances(1, 2)
    records = list(SPEC.make_solver("search", max_iterations=5).iterate(problem, observation,
                                                                       problem.initial_estimate(), truth))
    assert len(records) == 2 and SPEC.solver("search").kind == "closed-form"
    torch.testing.assert_close(records[1].x, search(problem, observation))
    assert records[1].energy.mean() < records[0].energy.mean()
