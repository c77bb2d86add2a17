"""The body-hmd problem: the device's signals and visibility, the energy's residuals and gradient, the metrics,
ground truths, the starts, the learned fitter on it, and bad estimates."""
from __future__ import annotations

import math

import pytest
import torch

from engine.problems.body_hmd import SPEC, data, sensors
from engine.problems.body_hmd.problem import (
    DATA_RESIDUALS, POSE_DIM, X_DIM, BodyHmdConfig, make_problem, rest_pose, vertex_parts,
)


def _instances(batch: int, seed: int = 0, **config):
    problem = make_problem(BodyHmdConfig(**config), batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
    return problem, truth, problem.forward(truth)


def test_the_device_reports_the_headset_wrists_and_fingertips():
    problem, truth, observation = _instances(3, visibility="full")
    assert observation.shape == (3, sensors.OBSERVATION_SIZE) == (3, 78)
    signals = sensors.unpack(observation)
    posed = problem.posed(truth)
    offset = torch.tensor(sensors.HEADSET_OFFSET)
    torch.testing.assert_close(signals.headset_position, posed.joints[:, 15] + posed.rotations[:, 15] @ offset)
    torch.testing.assert_close(signals.wrist_positions, posed.joints[:, [20, 21]])
    torch.testing.assert_close(signals.visible, torch.ones(3, 2))
    torch.testing.assert_close(signals.betas, problem.betas)
    torch.testing.assert_close(sensors.pack(signals), observation)


def test_half_space_hides_a_hand_behind_the_headset():
    problem = make_problem(BodyHmdConfig(visibility="half-space"), 1)
    x = rest_pose(1)
    x[:, 3 * 16 + 1] = x[:, 3 * 17 + 1] = math.pi / 2  # both shoulders turned: the right arm forward, the left back
    x[:, 3 * 16 + 2] = x[:, 3 * 17 + 2] = 0.0
    signals = sensors.unpack(problem.forward(x))
    assert signals.visible.tolist() == [[0.0, 1.0]]
    assert bool((signals.wrist_positions[0, 0] == 0).all() and (signals.fingertips[0, 0] == 0).all())
    assert bool((signals.wrist_rotations[0, 0] == 0).all() and signals.fingertips[0, 1].abs().sum() > 0)
    _, _, full = _instances(16, visibility="full")
    _, _, half = _instances(16, visibility="half-space")
    torch.testing.assert_close(sensors.unpack(half).visible, sensors.in_front(sensors.unpack(full)))
    torch.testing.assert_close(half, sensors.half_space(full))


def test_noise_is_drawn_per_item_and_kept_by_subsets():
    problem, truth, observation = _instances(3, noise_mm=5.0, noise_deg=2.0, visibility="full")
    clean = make_problem(BodyHmdConfig(visibility="full"), 3).forward(truth)
    error = (observation - clean)[:, :3].norm(dim=1)
    assert bool((error > 0).all() and (error < 0.05).all())
    part = problem.subset(torch.tensor([2, 0]))
    torch.testing.assert_close(part.forward(truth[[2, 0]]), observation[[2, 0]])


def test_residuals_match_the_energy_and_start_with_the_data_term():
    problem, truth, observation = _instances(3, seed=1)
    x = problem.retract(truth, 0.05 * torch.randn(3, X_DIM, generator=torch.Generator().manual_seed(0)))
    residuals = problem.residuals(x, observation)
    torch.testing.assert_close(residuals.square().sum(1), problem.energy(None, observation, x))
    torch.testing.assert_close(residuals[:, :DATA_RESIDUALS], problem.data_residuals(x, observation))
    assert float(problem.data_residuals(truth, observation).abs().max()) < 1e-3
    hidden = sensors.unpack(observation).visible == 0  # an invisible hand's residuals are zero
    hand_rows = residuals[:, 12:36].reshape(3, 2, 12)
    assert bool((hand_rows[hidden] == 0).all())


def test_the_energy_is_differentiable():
    problem, truth, observation = _instances(2, seed=5)
    x = problem.retract(truth, 0.05 * torch.randn(2, X_DIM, generator=torch.Generator().manual_seed(1)))
    x = x.double().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: problem.energy(None, observation.double(), v), (x,), atol=1e-4,
                                   rtol=1e-3)


def test_the_ground_terms_hold_the_body_on_the_floor():
    problem, truth, observation = _instances(1, seed=2)
    ground = problem.residuals(truth, observation)[:, -33:]
    assert float(ground.abs().max()) < 0.5  # the truth stands on its lowest vertex, the terms read every 4th
    for shift, rows in ((-0.05, slice(0, 32)), (0.05, slice(32, 33))):  # sunk: penetration; lifted: gravity
        moved = truth.clone()
        moved[:, POSE_DIM + 1] += shift
        residuals = problem.residuals(moved, observation)[:, -33:]
        assert float(residuals[:, rows].max()) == pytest.approx(5.0, abs=0.5)  # 5 cm, ground weight 1


def test_metrics_are_zero_at_the_truth_and_the_parts_are_the_head_and_hands():
    problem, truth, observation = _instances(3, seed=2)
    exact = problem.metrics(truth, observation, observation, truth)
    assert set(exact) == {metric.key for metric in SPEC.metrics}
    for key, value in exact.items():
        assert float(value.max()) < 1e-2, key
    off = problem.metrics(problem.initial_estimate(), observation, observation, truth)
    assert float(off["v2v_mm"].min()) > 10 and float(off["signals_mm"].min()) > 10
    parts = vertex_parts()
    sizes = {name: int(mask.sum()) for name, mask in parts.items()}
    assert sizes["head"] > 500 and 200 < sizes["left_hand"] < 1500 and 200 < sizes["right_hand"] < 1500
    assert not bool((parts["left_hand"] & parts["right_hand"]).any() or (parts["head"] & parts["left_hand"]).any())
    sunk = truth.clone()
    sunk[:, POSE_DIM + 1] -= 0.1
    assert float(problem.metrics(sunk, observation, observation, None)["penetration_mm"].min()) > 10


def test_ground_truths_are_deterministic_stand_on_the_floor_and_use_the_shapes():
    problem, a, _ = _instances(4, seed=3)
    b = _instances(4, seed=3)[1]
    c = _instances(4, seed=4)[1]
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c) and a.shape == (4, X_DIM)
    lowest = problem.posed(a).vertices[..., 1].min(1).values
    torch.testing.assert_close(lowest, torch.zeros(4), atol=1e-5, rtol=0)
    assert not torch.allclose(problem.betas, make_problem(BodyHmdConfig(shape_seed=1), 4).betas)
    fixed = make_problem(BodyHmdConfig(betas=(1.0, -0.5)), 2).betas
    torch.testing.assert_close(fixed, torch.tensor([[1.0, -0.5] + [0.0] * 8] * 2))


def test_hand_poses_curl_within_limits_and_mirror():
    hands = data.hand_poses(500, torch.Generator().manual_seed(0)).reshape(500, 2, 5, 3, 3)
    angles = torch.rad2deg(hands.norm(dim=-1))
    limits = torch.tensor(data.CURL_LIMITS_DEG) * 1.01 + data.SPREAD_DEG
    assert bool((angles[:, :, :4] <= limits).all()) and float(angles.max()) > 60
    assert float(hands[:, 0, :4, :, 2].max()) < 0.1 < float(hands[:, 1, :4, :, 2].max())  # left -z, right +z


def test_headset_start_puts_the_rest_pose_at_the_headset():
    problem, truth, observation = _instances(3, seed=6)
    start = problem.headset_start(observation)
    signals = sensors.unpack(problem.forward(start))
    torch.testing.assert_close(signals.headset_position, sensors.unpack(observation).headset_position)
    heading = signals.headset_rotation[:, [0, 2], 2]
    observed = sensors.unpack(observation).headset_rotation[:, [0, 2], 2]
    cosine = torch.nn.functional.cosine_similarity(heading, observed)
    assert float(cosine.min()) > 0.999


def test_the_learned_fitter_runs_on_its_checkpoint(tiny_lf):
    problem, truth, observation = _instances(2, seed=7)
    solver = SPEC.make_solver("lf", checkpoint=f"{tiny_lf}/body-hmd-lf.safetensors")
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert len(records) == 4 and records[-1].x.shape == (2, X_DIM)
    assert set(records[-1].metrics) == {metric.key for metric in SPEC.metrics}


def test_bad_estimates_and_configs_are_refused():
    problem = make_problem(BodyHmdConfig(), 1)
    with pytest.raises(ValueError, match=r"\(B, 159\)"):
        problem.forward(torch.zeros(1, 156))
    with pytest.raises(ValueError, match="--visibility"):
        BodyHmdConfig(visibility="cone")
    with pytest.raises(ValueError, match="--split"):
        BodyHmdConfig(split="holdout")
    with pytest.raises(ValueError, match="--betas"):
        BodyHmdConfig(betas=(0.0,) * 11)
