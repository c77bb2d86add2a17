"""Every renderer draws the same silhouette: the torch rasterizers' hard silhouettes against pyrender's."""
import pytest
import torch

from engine.problems.pose6d import Pose6DProblem
from engine.procedural import split_objects
from engine.silhouettes import silhouette_iou

TEST_MESHES = [obj.build() for obj in split_objects("test")]


@pytest.fixture(scope="module")
def problem_and_poses():
    # Every mesh of the procedural test split, each at a random pose from the ground-truth distribution.
    problem = Pose6DProblem.for_meshes(TEST_MESHES)
    poses = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    return problem, poses, problem.forward(poses)


# SoftRas' hard silhouette is its sigma -> 0 limit, thresholded at one half.
@pytest.mark.parametrize("rasterizer, options", [("nmr", {}), ("softras", {"sigma": 1e-12})])
def test_rasterizers_agree_with_pyrender(problem_and_poses, rasterizer, options):
    problem, poses, reference = problem_and_poses
    with torch.no_grad():
        silhouettes = problem.forward_differentiable(poses, rasterizer, **options)
    iou = silhouette_iou(silhouettes, reference)
    worst = int(iou.argmin())
    assert iou.min() >= 0.99, f"{problem.meshes[worst].name}: IoU {iou[worst]:.4f}"


def test_nmr_matches_pyrender_on_cuda_too(problem_and_poses, device):
    problem, poses, reference = problem_and_poses
    subset = problem.subset(torch.arange(8))
    subset = Pose6DProblem(subset.meshes, subset.config, device)
    silhouettes = subset.forward_differentiable(poses[:8].to(device), "nmr")
    assert silhouettes.device.type == device.type
    assert silhouette_iou(silhouettes.cpu(), reference[:8]).min() >= 0.99
