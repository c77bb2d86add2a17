"""Learning the energy: the trainer's tiny run and the argmin layer's derivative of the MPJPE."""
import pytest
import torch

from engine.learn.argmin import ArgminSettings, argmin, finishing_step
from engine.learn.energy_weights import load_energy_weights
from engine.problems.pose_from_2d import model
from engine.problems.pose_from_2d.problem import mpjpe_mm
from engine.problems.pose_from_2d.training import LEARNING_RATE_SCALES, Pose2DTrainConfig
from engine.solvers.generic import make_generic

from .conftest import instances


def test_a_tiny_run_writes_weights_the_problem_reads(tiny_weights):
    weights, meta = load_energy_weights(tiny_weights, model.PROBLEM, model.weight_shapes(1))
    assert meta["settings"]["cameras"] == 1 and meta["settings"]["steps"] == 2
    assert meta["validation"]["mpjpe_mm"] > 0 and meta["data"]["untrained validation"]["mpjpe_mm"] > 0
    assert not torch.equal(weights["joint_offsets"], torch.zeros(17, 3))  # two steps moved them
    assert set(model.energy_weights(str(tiny_weights), 1)) == set(model.weight_shapes(1))


def test_each_weight_steps_at_its_own_rate(tiny_weights):
    """Two Adam steps move a weight by at most twice its learning rate: the bases' slowly, log-weights fast."""
    weights, meta = load_energy_weights(tiny_weights, model.PROBLEM, model.weight_shapes(1))
    untrained = model.untrained_weights(1)
    rate = meta["settings"]["learning_rate"]
    for name, scale in LEARNING_RATE_SCALES.items():
        assert (weights[name] - untrained[name]).abs().max() <= 2 * rate * scale * 1.001, name
    assert (weights["log_joint_weights"] - untrained["log_joint_weights"]).abs().max() > 1.5 * rate


def test_the_training_config_refuses_another_rig():
    with pytest.raises(ValueError, match="--cameras 3: choose 1"):
        Pose2DTrainConfig(cameras=3)


def _polished(observation, weights, start):
    """The minimum near start to float64 precision: Newton steps (the Hessian is positive definite there)."""
    y = start
    for _ in range(8):
        y = finishing_step(lambda v: model.energy(v, observation, weights, 5.0), y, ArgminSettings(damping=1e-9))
    return y


@pytest.mark.parametrize("name, index", [("joint_offsets", (9, 2)), ("log_camera_weights", (0,))])
def test_the_undamped_argmin_derivative_of_the_mpjpe_matches_finite_differences(name, index):
    problem, truth, observation = instances(4, 2, seed=5)
    found = make_generic("lm", max_iterations=40).solve(problem, observation, truth).x
    truth, observation = truth.double(), observation.double()
    weights = {key: value.double() for key, value in problem.weights.items()}
    start = _polished(observation, weights, found.double())
    leaves = {key: value.clone().requires_grad_(True) for key, value in weights.items()}
    names = list(leaves)
    result = argmin(lambda y, ws: model.energy(y, observation, dict(zip(names, ws)), 5.0), start,
                    [leaves[key] for key in names], ArgminSettings(damping=0.0))
    assert not result.flagged.any() and result.gradient_norm.max() < 1e-6
    mpjpe_mm(result.y, truth).mean().backward()
    analytic = float(leaves[name].grad[index])
    h = 1e-4
    losses = []
    for sign in (1, -1):
        moved = {key: value.clone() for key, value in weights.items()}
        moved[name][index] += sign * h
        losses.append(float(mpjpe_mm(_polished(observation, moved, start), truth).mean()))
    numeric = (losses[0] - losses[1]) / (2 * h)
    assert analytic == pytest.approx(numeric, rel=0.02, abs=1e-3)
