import pytest
import torch

from engine.problems.pose6d import Pose6DConfig, Pose6DProblem, format_pose, parse_pose
from engine.procedural import default_mesh, make_object


@pytest.fixture(scope="module")
def mesh():
    return default_mesh()


def test_observation_is_binary_silhouette(mesh, device):
    problem = Pose6DProblem.for_meshes(mesh, 2, device=device)
    observation = problem.forward(problem.initial_estimate())
    assert observation.shape == (2, 128, 128) and observation.device.type == device.type
    assert set(observation.unique().tolist()) == {0.0, 1.0}
    assert 0.05 < observation.mean() < 0.6


def test_ground_truth_distribution(mesh):
    problem = Pose6DProblem.for_meshes(mesh, 400)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(1))
    metrics = problem.metrics(problem.initial_estimate(), torch.zeros(400, 4, 4), torch.zeros(400, 4, 4), truth)
    assert truth.shape == (400, 7)
    assert metrics["rotation_error_deg"].max() <= 40.01 and metrics["rotation_error_deg"].mean() > 15
    assert truth[:, 4:].abs().max() <= 0.2 and truth[:, 4:].abs().max() > 0.19
    unseen = problem.sample_ground_truth(torch.Generator().manual_seed(1), (50.0, 55.0))
    angles = problem.metrics(problem.initial_estimate(), torch.zeros(400, 4, 4), torch.zeros(400, 4, 4),
                             unseen)["rotation_error_deg"]
    assert angles.min() >= 49.99 and angles.max() <= 55.01


def test_metrics_and_outlier_rule(mesh):
    problem = Pose6DProblem.for_meshes(mesh, 3)
    truth = problem.initial_estimate()
    estimate = truth.clone()
    estimate[1, 4] = 0.25  # translation error 0.25 > 0.2
    estimate[2, :4] = torch.tensor([0.9659, 0.2588, 0.0, 0.0])  # 30.0 degrees about x: not above 30
    image = problem.forward(estimate)
    metrics = problem.metrics(estimate, image, image, truth)
    assert metrics["translation_error"].tolist() == pytest.approx([0.0, 0.25, 0.0], abs=1e-6)
    assert metrics["rotation_error_deg"][2].item() == pytest.approx(30.0, abs=0.05)
    assert metrics["outlier"].tolist() == [0.0, 1.0, 0.0]
    assert metrics["iou"].tolist() == [1.0, 1.0, 1.0]


def test_energy_gradient_matches_finite_differences_for_softras(mesh):
    problem = Pose6DProblem.for_meshes(mesh, 1, Pose6DConfig(image_size=48))
    truth = problem.initial_estimate()
    truth[0, 4:] = torch.tensor([0.05, -0.03, 0.1])
    observation = problem.forward(truth)
    x = problem.initial_estimate()
    x[0, 4] = -0.02
    x.requires_grad_(True)

    def energy(value):
        return problem.energy(problem.forward_differentiable(value, "softras", sigma=3e-3), observation, value).sum()

    (grad,) = torch.autograd.grad(energy(x), x)
    for i in range(7):
        step = torch.zeros_like(x)
        step[0, i] = 1e-3
        numeric = (energy(x + step) - energy(x - step)).item() / 2e-3
        assert grad[0, i].item() == pytest.approx(numeric, rel=0.1, abs=2e-3), f"parameter {i}"


def test_mixed_meshes_in_one_batch():
    problem = Pose6DProblem.for_meshes([make_object("chair", 0), make_object("lamp", 3)])
    x = problem.initial_estimate()
    assert problem.forward(x).shape == (2, 128, 128)
    assert problem.forward_differentiable(x, "nmr").shape == (2, 128, 128)
    assert problem.subset(torch.tensor([1])).meshes[0].name == problem.meshes[1].name


def test_pose_text_round_trip():
    pose = parse_pose("2,0,0,0,0.1,0,-0.1")
    assert pose.tolist()[0] == pytest.approx([1, 0, 0, 0, 0.1, 0, -0.1])
    assert parse_pose(format_pose(pose[0])).tolist()[0] == pytest.approx(pose.tolist()[0])


@pytest.mark.parametrize("text", ["1,0,0", "a,b,c,d,e,f,g", "0,0,0,0,0,0,0", "1,0,0,0,0,0,nan"])
def test_bad_pose_text_rejected(text):
    with pytest.raises(ValueError, match="pose"):
        parse_pose(text)


def test_bad_estimate_shape_rejected(mesh):
    problem = Pose6DProblem.for_meshes(mesh, 2)
    with pytest.raises(ValueError, match=r"\(B, 7\)"):
        problem.forward(torch.zeros(2, 6))
    with pytest.raises(ValueError, match="batch of 2"):
        problem.forward(torch.zeros(3, 7))
