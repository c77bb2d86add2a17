"""Headless OpenGL platform choice. Anything that would fix this process's own choice runs in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.render import gl_backend
from engine.render.gl_backend import RendererUnavailable

REPO = Path(__file__).resolve().parents[3]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("FEEDBACKLAB_GL", "PYOPENGL_PLATFORM")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("FEEDBACKLAB_GL", raising=False)
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    return monkeypatch


def fake_system(monkeypatch: pytest.MonkeyPatch, libraries: set[str], egl_works: bool = True) -> list[int]:
    probes: list[int] = []

    def probe_egl(timeout_s: float = 0.0) -> tuple[bool, str]:
        probes.append(1)
        return egl_works, "" if egl_works else "EGL probe failed: test"

    monkeypatch.setattr(gl_backend, "_library_present", lambda platform: platform in libraries)
    monkeypatch.setattr(gl_backend, "probe_egl", probe_egl)
    return probes


class TestDecision:
    """The decision logic (`_decide`) with the system faked; it changes nothing in this process."""

    def test_egl_first_when_it_works(self, clean_env: pytest.MonkeyPatch) -> None:
        probes = fake_system(clean_env, {"egl", "osmesa"}, egl_works=True)
        assert gl_backend._decide() == "egl"
        assert probes == [1]

    def test_osmesa_when_egl_probe_fails(self, clean_env: pytest.MonkeyPatch) -> None:
        fake_system(clean_env, {"egl", "osmesa"}, egl_works=False)
        assert gl_backend._decide() == "osmesa"

    def test_single_library_is_used_without_probe(self, clean_env: pytest.MonkeyPatch) -> None:
        probes = fake_system(clean_env, {"osmesa"})
        assert gl_backend._decide() == "osmesa"
        fake_system(clean_env, {"egl"})
        assert gl_backend._decide() == "egl"
        assert probes == []

    def test_nothing_found(self, clean_env: pytest.MonkeyPatch) -> None:
        fake_system(clean_env, set())
        with pytest.raises(RendererUnavailable, match="no headless OpenGL found.*libosmesa6.*scripts/setup.sh"):
            gl_backend._decide()

    def test_forced_backend_wins(self, clean_env: pytest.MonkeyPatch) -> None:
        probes = fake_system(clean_env, {"egl", "osmesa"})
        clean_env.setenv("PYOPENGL_PLATFORM", "egl")
        clean_env.setenv("FEEDBACKLAB_GL", "OSMesa")
        assert gl_backend._decide() == "osmesa"
        assert probes == []

    def test_forced_backend_without_library(self, clean_env: pytest.MonkeyPatch) -> None:
        fake_system(clean_env, {"osmesa"})
        clean_env.setenv("FEEDBACKLAB_GL", "egl")
        with pytest.raises(RendererUnavailable, match="libEGL was not found"):
            gl_backend._decide()

    def test_preset_pyopengl_platform_is_respected(self, clean_env: pytest.MonkeyPatch) -> None:
        probes = fake_system(clean_env, {"egl", "osmesa"})
        clean_env.setenv("PYOPENGL_PLATFORM", "osmesa")
        assert gl_backend._decide() == "osmesa"
        assert probes == []

    def test_bad_forced_value(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv("FEEDBACKLAB_GL", "vulkan")
        with pytest.raises(RendererUnavailable, match="egl, osmesa"):
            gl_backend._decide()


def test_bogus_forced_backend_in_a_fresh_process() -> None:
    code = (
        "from engine.render.gl_backend import select_gl_platform, RendererUnavailable\n"
        "try:\n    select_gl_platform()\nexcept RendererUnavailable as error:\n    print('unavailable:', error)\n"
    )
    result = run_python(code, FEEDBACKLAB_GL="bogus")
    assert result.returncode == 0, result.stderr
    assert "unavailable: FEEDBACKLAB_GL='bogus'" in result.stdout
    assert "egl, osmesa" in result.stdout


def test_choice_is_exported_and_cached_in_a_fresh_process() -> None:
    code = (
        "import os\nfrom engine.render.gl_backend import select_gl_platform\n"
        "first = select_gl_platform()\nos.environ['FEEDBACKLAB_GL'] = 'bogus'\n"
        "print(first, os.environ['PYOPENGL_PLATFORM'], select_gl_platform())\n"
    )
    result = run_python(code, FEEDBACKLAB_GL="osmesa")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["osmesa", "osmesa", "osmesa"]


@pytest.mark.skipif(not gl_backend._library_present("egl"), reason="libEGL not installed")
def test_opengl_imported_with_another_platform_is_an_error() -> None:
    code = (
        "import os\nimport OpenGL.GL\ndel os.environ['PYOPENGL_PLATFORM']\nos.environ['FEEDBACKLAB_GL'] = 'egl'\n"
        "from engine.render.gl_backend import select_gl_platform, RendererUnavailable\n"
        "try:\n    select_gl_platform()\nexcept RendererUnavailable as error:\n    print('unavailable:', error)\n"
    )
    result = run_python(code, PYOPENGL_PLATFORM="osmesa")
    assert result.returncode == 0, result.stderr
    assert "already imported with the 'osmesa' platform" in result.stdout


@pytest.mark.skipif(not gl_backend._library_present("egl"), reason="libEGL not installed")
def test_egl_probe_answers_quickly() -> None:
    worked, reason = gl_backend.probe_egl(timeout_s=20.0)
    assert isinstance(worked, bool)
    assert worked or reason.startswith("EGL probe")
