"""The learned fitter: theta's representation, its networks and ablations, the solver on the iteration interface,
its checkpoints and its training by the shared trainer (on the body-keypoints problem)."""
from __future__ import annotations

import pytest
import torch

from engine.learn.checkpoint import CheckpointError, load_checkpoint
from engine.learn.fitter import Representation, feedback
from engine.learn.fitter_network import FitterConfig, LearnedFitter, fitter_class
from engine.problems.body_keypoints import SPEC
from engine.problems.spec import ParameterGroup
from engine.rotations import axis_angle_to_matrix, rotation_to_6d

from ..problems.body_keypoints.conftest import train_tiny_fitter

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def tiny_fitter(tmp_path_factory):
    return train_tiny_fitter(tmp_path_factory.mktemp("fitter"))


def test_representation_round_trips_rotations_as_6d():
    representation = Representation(SPEC.parameters)
    assert representation.x_dim == 85 and representation.theta_dim == 24 * 6 + 13
    generator = torch.Generator().manual_seed(0)
    rotations = torch.nn.functional.normalize(torch.randn(3, 24, 3, generator=generator), dim=-1) \
        * torch.rand(3, 24, 1, generator=generator) * 3.0  # angles below pi: the round trip does not wrap them
    x = torch.cat([rotations.flatten(1), torch.randn(3, 13, generator=generator)], 1)
    torch.testing.assert_close(representation.to_x(representation.to_theta(x)), x, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="whole rotation vectors"):
        Representation((ParameterGroup("bad", ("a", "b"), "rad", "rotation-vector"),))


def test_representation_keeps_each_group_in_its_place():
    groups = (ParameterGroup("a", ("a0", "a1"), "m", "euclidean"), ParameterGroup("r", ("rx", "ry", "rz"), "rad",
              "rotation-vector"), ParameterGroup("b", ("b0",), "m", "euclidean"),
              ParameterGroup("s", tuple(f"s{i}" for i in range(6)), "rad", "rotation-vector"))
    representation = Representation(groups)
    assert (representation.x_dim, representation.theta_dim) == (12, 21)
    x = torch.tensor([[1.0, 2.0, 0.3, 0.0, 0.0, 5.0, 0.0, 0.2, 0.0, 0.0, 0.0, 0.1]])
    theta = representation.to_theta(x)

    def six(vector: list[float]) -> torch.Tensor:
        return rotation_to_6d(axis_angle_to_matrix(torch.tensor(vector))).flatten()

    torch.testing.assert_close(theta[0], torch.cat([torch.tensor([1.0, 2.0]), six([0.3, 0.0, 0.0]),
                                                    torch.tensor([5.0]), six([0.0, 0.2, 0.0]), six([0.0, 0.0, 0.1])]))
    torch.testing.assert_close(representation.to_x(theta), x)


def _config(**overrides) -> FitterConfig:
    return FitterConfig(**{"observation": 6, "parameters": 4, "residuals": 5, "hidden": 8, "iterations": 3,
                           "initialiser_hidden": 8, **overrides})


@pytest.mark.parametrize("overrides, cores", [({}, 3), ({"per_step": False}, 1), ({"cell": "resnet"}, 3),
                                              ({"cell": "mlp", "layers": 1}, 3)])
def test_an_untrained_update_follows_the_gradient_alone(overrides, cores):
    torch.manual_seed(0)  # the order of earlier tests must not pick the draws (a near-zero gradient loses digits)
    network = LearnedFitter(_config(**overrides)).eval()
    assert len(network.cores) == cores
    theta, gradient = torch.randn(2, 4), torch.randn(2, 4)
    state = network.initial_state(2, theta.device)
    updated, state, info = network.update(0, torch.randn(2, 6), theta, torch.randn(2, 5), gradient, state)
    step = (theta - updated) / (gradient / gradient.square().mean(1, keepdim=True).sqrt())
    torch.testing.assert_close(step, torch.full_like(step, 0.02), atol=1e-5, rtol=0)  # alpha * 0 + beta g
    assert set(info) == {"alpha", "beta"} and info["beta"].shape == (2,)


def test_the_pure_network_update_ignores_the_gradient():
    network = LearnedFitter(_config(update="network")).eval()
    theta = torch.randn(2, 4)
    updated, _, info = network.update(0, torch.randn(2, 6), theta, torch.randn(2, 5), torch.randn(2, 4),
                                      network.initial_state(2, theta.device))
    torch.testing.assert_close(updated, theta) and not info


def test_the_memory_carries_over_iterations_and_gradients_reach_every_weight():
    network = LearnedFitter(_config())
    network.set_statistics(torch.randn(8, 6), torch.randn(8, 4))
    for head in network.heads:
        torch.nn.init.normal_(head.weight, std=0.1)
    observation = torch.randn(8, 6)
    thetas = network(observation, lambda theta: (theta.detach()[:, :1].expand(-1, 5), theta.detach().sin()))
    assert len(thetas) == 4 and all(t.shape == (8, 4) for t in thetas)
    sum(t.square().sum() for t in thetas).backward()
    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in network.parameters())


def test_bad_settings_are_refused():
    for wrong in ({"cell": "lstm"}, {"update": "newton"}, {"step_size": "adaptive"}, {"hidden": 0}):
        with pytest.raises(ValueError):
            _config(**wrong)


def test_feedback_is_the_data_term_and_its_gradient():
    problem = SPEC.make(SPEC.config(), {}, "cpu", 2)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    representation = Representation(SPEC.parameters)
    residuals, gradient = feedback(problem, representation, representation.to_theta(problem.initial_estimate()),
                                   problem.forward(truth))
    assert residuals.shape == (2, 70) and gradient.shape == (2, representation.theta_dim)
    assert bool(torch.isfinite(gradient).all()) and float(gradient.abs().max()) > 0


@pytest.mark.parametrize("device", DEVICES)
def test_the_solver_runs_the_initialiser_then_each_update(tiny_fitter, device):
    problem = SPEC.make(SPEC.config(), {}, device, 3)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(1))
    observation = problem.forward(truth)
    records = list(SPEC.make_solver("lf", checkpoint=tiny_fitter).iterate(problem, observation,
                                                                          problem.initial_estimate(), truth))
    assert len(records) == 4  # x0, the initialiser's estimate and 2 updates
    assert set(records[-1].metrics) == {metric.key for metric in SPEC.metrics}
    assert set(records[2].info) == {"alpha", "beta"}
    regression = list(SPEC.make_solver("regression", checkpoint=tiny_fitter).iterate(
        problem, observation, problem.initial_estimate(), truth))
    assert len(regression) == 2
    torch.testing.assert_close(regression[1].x, records[1].x)


def test_checkpoints_name_their_problem_and_fit_its_parameters(tiny_fitter, tmp_path):
    checkpoint = load_checkpoint(tiny_fitter, fitter_class(SPEC.name))
    assert checkpoint.meta["problem"] == SPEC.name and checkpoint.meta["architecture"] == "learned-fitter"
    with pytest.raises(CheckpointError, match="trained for problem 'body-keypoints'"):
        load_checkpoint(tiny_fitter, fitter_class("body-hmd"))
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        SPEC.make_solver("lf", checkpoint=str(tmp_path / "missing.safetensors"))
    with pytest.raises(ValueError, match="at most 3 steps"):
        SPEC.make_solver("lf", checkpoint=tiny_fitter, steps=5)


def test_training_resumes_and_records_its_settings(tmp_path):
    path = train_tiny_fitter(tmp_path, "lgd", iterations=2)
    meta = load_checkpoint(path, fitter_class(SPEC.name)).meta
    assert meta["solver"] == "lgd" and meta["train_config"]["cell"] == "mlp" and meta["train_seconds"] > 0
    assert meta["network"]["update"] == "network" and "training_set" in meta
