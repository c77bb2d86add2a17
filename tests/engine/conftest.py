import pytest

from engine.learn.train import TrainConfig, train
from engine.procedural import make_object

TINY = dict(samples=48, validation_samples=8, epochs=1, batch_size=16, image_size=64, width=4, hidden=16)


def tiny_meshes():
    return [make_object("chair", 0), make_object("car", 2)], [make_object("sofa", 1)]


def train_tiny(out_dir, **overrides):
    train_meshes, validation_meshes = tiny_meshes()
    config = TrainConfig(**{**TINY, "steps": 2, **overrides})
    return train(config, str(out_dir), train_meshes, validation_meshes, {"meshes": "tiny"}, log=lambda m: None)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("feedback"))


@pytest.fixture(scope="session")
def tiny_regression_checkpoint(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("regression"), steps=1, feedback=False)
