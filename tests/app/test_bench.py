"""`feedbacklab bench gui` under Xvfb: every phase is measured and reported, the empty window included."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from app.bench import format_report


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (scripts/setup.sh installs it)")
def test_bench_gui_reports_every_phase(tmp_path):
    out = tmp_path / "gui.json"
    feedbacklab = os.path.join(os.path.dirname(sys.executable), "feedbacklab")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # this checkout's code, also when the installed package points at another one (a git worktree)
    env = dict(os.environ, FEEDBACKLAB_CONFIG_DIR=str(tmp_path / "config"), PYTHONPATH=root)
    env.pop("DISPLAY", None)
    completed = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", feedbacklab, "bench", "gui", "--solvers", "feedback",
         "--window", "640x480", "--out", str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["viewport"] == [640, 480] and report["timeline"] == 6
    for phase in ("empty window", "idle", "running", "scrubbing"):
        assert report[phase]["frames"] > 0 and report[phase]["fps_mean"] > 0, phase
    assert report["empty window"]["app_work_ms_mean"] == 0.0 and report["scrubbing"]["app_work_ms_mean"] > 0
    assert format_report(report) in completed.stdout
    assert format_report(report).count("\n| ") == 5  # header and four phases
