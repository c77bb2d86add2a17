"""Every numbered example runs with tiny settings and prints its table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = {"00_pose6d.py": ["--iterations", "3"], "01_ik.py": ["--poses", "2", "--iterations", "5"],
        "02_robust_mean.py": ["--steps", "3"], "03_tracker_fusion.py": ["--frames", "2"],
        "04_pose_from_2d.py": ["--poses", "2", "--iterations", "3"], "05_jpeg.py": ["--size", "48"],
        "06_illumination.py": ["--size", "64", "--iterations", "3"],
        "07_face_landmarks.py": ["--faces", "2", "--iterations", "3"]}


def test_every_example_has_tiny_settings():
    assert sorted(path.name for path in EXAMPLES.glob("[0-9][0-9]_*.py")) == sorted(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_example_runs(name, tmp_path):
    command = [sys.executable, str(EXAMPLES / name), *TINY[name], "--record", str(tmp_path / "run.gif")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=EXAMPLES.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| Solver |" in result.stdout and (tmp_path / "run.gif").stat().st_size > 1000
