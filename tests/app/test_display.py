"""The display: whether a window can open, the screen's size and the default window sized to it."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from app.display import FALLBACK_WINDOW, default_window, display_problem, screen_size


@pytest.mark.parametrize("screen", [(1600, 1050), (1280, 720), (1024, 768), (800, 600), (3840, 2160), (300, 200)])
def test_the_default_window_fits_the_screen(screen):
    width, height = default_window(screen)
    assert 0 < width <= screen[0] and 0 < height <= screen[1]  # never past the screen's edge


def test_the_default_window_without_a_screen():
    assert default_window(None) == FALLBACK_WINDOW == (1280, 800)


def test_no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert "DISPLAY is unset" in display_problem() and screen_size() is None
    monkeypatch.setenv("DISPLAY", ":987654")
    assert "no X server answers" in display_problem() and screen_size() is None


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (scripts/setup.sh installs it)")
def test_screen_size_under_xvfb():
    code = "from app.display import screen_size, default_window; print(screen_size(), default_window(screen_size()))"
    completed = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1050x24", sys.executable, "-c", code],
                               capture_output=True, text=True, timeout=60)
    assert completed.stdout.split("\n")[0] == "(1600, 1050) (1440, 920)", completed.stderr[-2000:]
