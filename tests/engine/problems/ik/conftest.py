import pytest

from engine.bodies.model import load_body
from engine.bodies.skeleton import NUM_JOINTS


@pytest.fixture(scope="session")
def default_body():
    return load_body()


@pytest.fixture(scope="session")
def rest_joints(default_body):
    return default_body().joints[0, :NUM_JOINTS].detach()
