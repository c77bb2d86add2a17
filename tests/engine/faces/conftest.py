import pytest
import torch

from engine.faces.model import load_face


@pytest.fixture(scope="session")
def face():
    return load_face()


@pytest.fixture(scope="session")
def face64():
    return load_face(dtype=torch.float64)
