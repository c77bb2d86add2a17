import pytest

from engine.bodies.model import load_body


@pytest.fixture(scope="session")
def default_body():
    return load_body()


@pytest.fixture(scope="session")
def smplh_body():
    return load_body(model_type="smplh")
