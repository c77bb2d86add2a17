"""Shared fixtures: every device test runs on the CPU, and on CUDA when present."""
from __future__ import annotations

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def full_disk(monkeypatch):
    """full_disk(owner, name) makes the writer owner.name fail as a full disk does: it writes a few bytes to
    the file it was given (its first path argument), then raises ENOSPC."""
    import errno
    import os

    def patch(owner, name: str) -> None:
        def write(*args, **kwargs):
            path = next(arg for arg in args if isinstance(arg, (str, os.PathLike)))
            with open(path, "wb") as file:
                file.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(owner, name, write)

    return patch
