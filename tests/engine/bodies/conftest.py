import pytest

from engine.bodies.model import load_body


@pytest.fixture(scope="session")
def default_body():
    return load_body()
