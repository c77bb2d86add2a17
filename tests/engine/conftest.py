import pytest

from engine.learn.train import train
from engine.problems.pose6d.training import Pose6DTask, Pose6DTrainConfig
from engine.procedural import make_object

TINY = dict(samples=48, validation_samples=8, epochs=1, batch_size=16, image_size=64, width=4, hidden=16)


def tiny_meshes():
    return [make_object("chair", 0), make_object("car", 2)], [make_object("sofa", 1)]


def train_tiny(out_dir, log=lambda message: None, **overrides):
    train_meshes, validation_meshes = tiny_meshes()
    config = Pose6DTrainConfig(**{**TINY, "steps": 2, **overrides})
    return train(Pose6DTask(config, train_meshes, validation_meshes, {"meshes": "tiny"}), str(out_dir), log=log)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("feedback"))


@pytest.fixture(scope="session")
def tiny_regression_checkpoint(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("regression"), steps=1, feedback=False)
