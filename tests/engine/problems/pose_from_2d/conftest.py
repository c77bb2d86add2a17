import pytest
import torch

from engine.problems.pose_from_2d.problem import Pose2DConfig, make_problem


def instances(cameras: int = 4, batch: int = 3, seed: int = 0, **config):
    """An untrained problem batch, its truth (sampler poses) and their detections."""
    problem = make_problem(Pose2DConfig(cameras=cameras, energy="untrained", **config), batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
    return problem, truth, problem.forward(truth)


TINY_TRAINING = ["--steps", "2", "--batch-size", "3", "--validation-size", "3", "--iterations", "2"]


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A weights file of a two-step monocular training run, made by `feedbacklab train pose-from-2d`."""
    from engine.cli import main

    path = tmp_path_factory.mktemp("pose-from-2d") / "mono.safetensors"
    assert main(["train", "pose-from-2d", "--cameras", "1", "--out", str(path), *TINY_TRAINING]) == 0
    return path
