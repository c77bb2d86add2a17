"""Shared fixtures: every device test runs on the CPU, and on CUDA when present; headless OpenGL for the renderers'
tests (skipped where there is none)."""
from __future__ import annotations

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(scope="module")
def gl() -> None:
    from engine.render.gl_backend import RendererUnavailable, select_gl_platform

    try:
        select_gl_platform()
    except RendererUnavailable as error:
        pytest.skip(f"no headless OpenGL: {error}")


@pytest.fixture
def full_disk(monkeypatch):
    """full_disk(path, save, owner, name): save() writes path; then, with the writer owner.name failing as a
    full disk does (it writes a few bytes to the file it was given, its first path or open-file argument, and
    raises ENOSPC), save() again must fail with a one-line ValueError and leave path byte for byte as it was,
    with nothing beside it. Returns that error's message."""
    import errno
    import os

    def write(*args, **kwargs):
        target = next(arg for arg in args if isinstance(arg, (str, os.PathLike)) or hasattr(arg, "write"))
        if hasattr(target, "write"):
            target.write(b"partial")
        else:
            with open(target, "wb") as file:
                file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    def check(path, save, owner, name: str) -> str:
        save()
        before, neighbours = path.read_bytes(), sorted(path.parent.iterdir())
        monkeypatch.setattr(owner, name, write)
        with pytest.raises(ValueError) as failure:
            save()
        monkeypatch.undo()
        message = str(failure.value)
        assert path.read_bytes() == before and sorted(path.parent.iterdir()) == neighbours
        assert f"{path}: could not be written (No space left on device); the file that was there is unchanged" \
            in message and "\n" not in message
        return message

    return check
