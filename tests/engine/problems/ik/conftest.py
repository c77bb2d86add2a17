import pytest

from engine.bodies.model import load_body
from engine.bodies.skeleton import NUM_JOINTS


@pytest.fixture(scope="session")
def default_body():
    return load_body()


@pytest.fixture(scope="session")
def rest_joints(default_body):
    return default_body().joints[0, :NUM_JOINTS].detach()


TINY_TRAINING = dict(samples=64, validation_samples=16, epochs=1, batch_size=16, hidden=16, layers=1)


def train_tiny_ik(out_dir, **overrides):
    """A tiny ik checkpoint trained by the real trainer (engine.learn.train) on the default skeleton."""
    from engine.learn.train import train
    from engine.problems.ik.data import default_rest_joints
    from engine.problems.ik.training import IKTask, IKTrainConfig

    config = IKTrainConfig(**{**TINY_TRAINING, "steps": 2, **overrides})
    return train(IKTask(config, default_rest_joints()), str(out_dir), log=lambda message: None)


@pytest.fixture(scope="session")
def tiny_ik_checkpoint(tmp_path_factory):
    return train_tiny_ik(tmp_path_factory.mktemp("ik-feedback"))


@pytest.fixture(scope="session")
def tiny_deep6d_checkpoint(tmp_path_factory):
    return train_tiny_ik(tmp_path_factory.mktemp("ik-deep6d"), steps=1, feedback=False)
