import pytest
import torch

from engine.problems.pose6d import Pose6DConfig, Pose6DProblem
from engine.procedural import default_mesh
from engine.rotations import quaternion_from_axis_angle
from engine.solvers.base import Status
from engine.problems.registry import get_problem


def small_offset_problem(device="cpu"):
    """Two problems at 64 px: a 6 cm translation, and an 8 degree rotation about y."""
    problem = Pose6DProblem.for_meshes(default_mesh(), 2, Pose6DConfig(image_size=64), device)
    truth = problem.initial_estimate()
    truth[0, 4:] = torch.tensor([0.06, -0.04, 0.0])
    truth[1, :4] = quaternion_from_axis_angle(torch.tensor([0.0, 1.0, 0.0]), torch.tensor(0.14))
    return problem, truth, problem.forward(truth)


# SoftRas' schedule starts soft for reach (its blurred silhouette is larger than the hard one, which biases depth
# until sigma is small); a sharper start suits these small offsets at 64 px.
@pytest.mark.parametrize("name, options", [("nmr", {}), ("softras", {"sigma": 3e-5}), ("softras-lbfgs", {"sigma": 3e-5})])
def test_optimizer_recovers_small_translation_and_rotation(name, options, device):
    problem, truth, observation = small_offset_problem(device)
    solver = get_problem("pose6d").make_solver(name, max_iterations=150, **options)
    initial = problem.metrics(problem.initial_estimate(), observation, observation, truth)
    last = solver.solve(problem, observation, problem.initial_estimate(), truth)
    assert last.x.device.type == device.type
    assert last.metrics["translation_error"][0] < 0.5 * initial["translation_error"][0]
    assert last.metrics["rotation_error_deg"][1] < 0.5 * initial["rotation_error_deg"][1]
    assert last.metrics["iou"].min() > 0.9
    if name == "nmr":
        assert last.metrics["translation_error"][0] < 0.025 and last.metrics["rotation_error_deg"][1] < 3.0


def test_per_item_state_and_stopping():
    problem, truth, observation = small_offset_problem()
    observation[1] = observation[0]  # item 1: same target as item 0, from the same start
    solver = get_problem("pose6d").make_solver("nmr", max_iterations=30, patience=0)
    records = list(solver.iterate(problem, observation, problem.initial_estimate(), truth))
    assert torch.allclose(records[-1].x[0], records[-1].x[1], atol=1e-5)
    assert records[-1].status.tolist() == [Status.MAX_ITERATIONS] * 2
    assert records[1].update.abs().max() <= 0.0101  # Adam's first step is at most the learning rate


def test_registry_names():
    assert get_problem("pose6d").parse_solvers("nmr, softras") == ["nmr", "softras"]
    assert get_problem("pose6d").make_solver("softras-lbfgs").name == "softras-lbfgs"
    with pytest.raises(ValueError, match="pose6d cannot run solver.*bogus.*choose from nmr"):
        get_problem("pose6d").parse_solvers("nmr,bogus")
    with pytest.raises(ValueError, match="twice"):
        get_problem("pose6d").parse_solvers("nmr,nmr")


@pytest.mark.parametrize("settings", [{"learning_rate": -1.0}, {"history": 0}])
def test_bad_settings_rejected(settings):
    with pytest.raises(ValueError):
        get_problem("pose6d").make_solver("nmr", **settings)
