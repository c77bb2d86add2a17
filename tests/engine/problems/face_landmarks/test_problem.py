"""The face-landmarks problem on a tiny face model: shapes of batches, the camera, ground truths and their splits,
the residuals and their Jacobian, the metrics, LM, and bad settings."""
from __future__ import annotations

import math

import pytest
import torch

from engine.bodies.metrics import procrustes_aligned_mm
from engine.problems.face_landmarks.camera import Intrinsics
from engine.problems.face_landmarks.problem import FaceLandmarksConfig, make_problem, parameter_groups
from engine.rotations import axis_angle_to_matrix
from engine.solvers.generic import linearize, make_generic


@pytest.mark.parametrize("batch", [1, 4])
def test_forward_residuals_and_metrics_have_the_batch_shapes(instances, face, batch):
    problem, truth, observation = instances(batch)
    dimension = 3 + 12 + len(face.expression_names) + face.identity_count
    assert truth.shape == (batch, dimension) == problem.initial_estimate().shape
    assert len(problem.parameter_names) == dimension == sum(len(g.labels) for g in parameter_groups(face))
    assert observation.shape == (batch, 68, 2) and observation.dtype == torch.float32
    residuals = problem.residuals(truth, observation)
    assert residuals.shape == (batch, 2 * 68 + dimension - 3)
    torch.testing.assert_close(residuals.square().sum(1), problem.energy(observation, observation, truth))
    metrics = problem.metrics(problem.initial_estimate(), observation, observation, truth)
    assert set(metrics) == {"reprojection_px", "v2v_face_mm", "pa_v2v_face_mm", "v2v_head_mm", "pa_v2v_head_mm",
                            "landmark_mm", "pa_landmark_mm"}
    assert all(value.shape == (batch,) for value in metrics.values())
    with pytest.raises(ValueError, match=rf"\(B, {dimension}\)"):
        problem.forward(truth[:, :-1])


def test_the_camera_projects_as_documented_and_back():
    camera = Intrinsics(1000.0, 300.0, 200.0, 640, 480)
    pixels = camera.project(torch.tensor([[0.1, 0.2, -0.5], [0.0, 0.0, -2.0]]))
    torch.testing.assert_close(pixels, torch.tensor([[500.0, -200.0], [300.0, 200.0]]))  # v grows downwards
    torch.testing.assert_close(camera.unproject(pixels, torch.tensor([0.5, 2.0])),
                               torch.tensor([[0.1, 0.2, -0.5], [0.0, 0.0, -2.0]]))


def test_ground_truths_are_framed_deterministic_and_split_apart(instances):
    problem, truth, observation = instances(64, seed=3, noise_px=0.0)
    again = instances(64, seed=3)[1]
    torch.testing.assert_close(truth, again)
    assert not torch.allclose(truth, instances(64, seed=4)[1])
    other = make_problem(FaceLandmarksConfig(split="train"), 64, model=problem.model)
    assert not torch.allclose(other.sample_ground_truth(torch.Generator().manual_seed(3)), truth)
    depth = -problem.face(truth).landmarks.mean(1)[:, 2]
    assert 0.35 < float(depth.min()) and float(depth.max()) < 1.05
    centre = observation.mean(1)
    assert float((centre - 256).abs().max()) < 120  # the faces are in view
    parts = problem.layout
    expression = truth[:, parts.expression]
    assert float(expression.min()) >= 0 and float(expression.max()) <= 1
    assert 0 < float((expression > 0).float().mean()) < 0.8
    assert float(truth[:, parts.identity_part].abs().max()) <= 3.0


def test_the_noise_is_the_configured_pixels(instances):
    problem, truth, observation = instances(32, noise_px=2.0)
    assert 1.7 < float((observation - problem.projection(truth)).std()) < 2.3
    exact = instances(32, noise_px=0.0)[2]
    torch.testing.assert_close(exact, problem.projection(truth))


def test_the_residual_jacobian_matches_finite_differences(instances):
    problem, truth, observation = instances(2, seed=1)
    x = problem.retract(truth, 0.05 * torch.randn(2, problem.tangent_dim, generator=torch.Generator().manual_seed(0)))
    x, observation = x.double(), observation.double()
    _, residuals, jacobian = linearize(problem, x, observation)
    assert jacobian.shape == (2, residuals.shape[1], problem.tangent_dim)
    step = 1e-6
    for column in (0, 2, 3, 7, 16, problem.tangent_dim - 1):  # translation, neck, head, expression, identity
        dx = torch.zeros_like(x)
        dx[:, column] = step
        numeric = (problem.residuals(problem.retract(x, dx), observation)
                   - problem.residuals(problem.retract(x, -dx), observation)) / (2 * step)
        torch.testing.assert_close(jacobian[:, :, column], numeric, rtol=1e-5, atol=1e-5)


def test_procrustes_alignment_removes_a_similarity_transform(instances):
    problem, truth, observation = instances(3, seed=2)
    turned = truth.clone()
    turned[:, :3] += torch.tensor([0.05, -0.02, 0.1])
    turned[:, 3:6] = torch.tensor([0.0, 0.3, 0.1])  # the neck is the root: the whole head turns rigidly
    truth[:, 3:6] = 0.0
    metrics = problem.metrics(turned, observation, observation, truth)
    for key in ("v2v_face_mm", "v2v_head_mm", "landmark_mm"):
        assert float(metrics[key].min()) > 20 and float(metrics[f"pa_{key}"].max()) < 1e-3, key
    points = problem.face(truth).vertices
    similar = 1.3 * points @ axis_angle_to_matrix(torch.tensor([0.2, -0.4, 0.3])).double().T + 0.2
    assert float(procrustes_aligned_mm(similar, points).max()) < 1e-4


def test_lm_lowers_the_energy_from_the_initial_estimate(instances):
    problem, truth, observation = instances(3, seed=5)
    x0 = problem.initial_estimate()
    start = problem.energy(observation, observation, x0)
    for last in make_generic("lm", max_iterations=25).iterate(problem, observation, x0, truth):
        pass
    assert bool((last.energy < 0.05 * start).all())
    assert float(last.metrics["reprojection_px"].max()) < 5


@pytest.mark.parametrize("settings, flag", [
    ({"focal_px": 0.0}, "--focal-px"), ({"focal_px": -800.0}, "--focal-px"), ({"principal_x": 900.0}, "--principal-x"),
    ({"split": "holdout"}, "--split"), ({"noise_px": -1.0}, "--noise-px")])
def test_bad_cameras_and_settings_are_refused_in_one_line(settings, flag):
    with pytest.raises(ValueError, match=flag) as error:
        FaceLandmarksConfig(**settings)
    assert "\n" not in str(error.value)


def test_the_initial_estimate_faces_the_camera_on_its_axis(instances):
    problem = instances(2)[0]
    centre = problem.face(problem.initial_estimate()).landmarks.mean(1)
    torch.testing.assert_close(centre.float(), torch.tensor([[0.0, 0.0, -0.7]] * 2), atol=1e-5, rtol=0)
    torch.testing.assert_close(problem.projection(problem.initial_estimate()).mean(1),
                               torch.tensor([[256.0, 256.0]] * 2), atol=0.5, rtol=0)
    assert math.isclose(problem.camera.focal, 1000.0)
