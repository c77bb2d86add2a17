"""tracker-fusion through the command line: render and solve, bench (Table 1, JSON) and train, with bad input."""
from __future__ import annotations

import json

import numpy as np

from engine.cli import main
from engine.trace import Comparison


def test_render_then_solve_the_observation(tmp_path, capsys):
    observation = tmp_path / "boxes.npy"
    assert main(["render", "tracker-fusion", "--frame", "7", "--out", str(observation)]) == 0
    boxes = np.load(observation)
    assert boxes.shape == (1, 72, 5) and boxes.dtype == np.float32
    capsys.readouterr()
    trace = tmp_path / "run.npz"
    assert main(["solve", "tracker-fusion", "--frame", "7", "--energy", "untrained", "--solvers",
                 "median,rbf-centre,rbf+lbfgs", "--trace", str(trace), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["energy"] == "untrained"
    assert summary["solvers"]["rbf+lbfgs"]["energy"] <= summary["solvers"]["rbf-centre"]["energy"] + 1e-6
    loaded = Comparison.load(trace)
    np.testing.assert_array_equal(loaded.observation, boxes)


def test_bench_prints_table_1_for_both_partitions(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "tracker-fusion", "--frames", "40", "--sequences", "6", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Table 1" in printed and "Sequences assigned at random | IoU" in printed and "Lost (%)" in printed
    results = json.loads(out.read_text())
    for partition in ("sequences", "frames"):
        rows = results["partitions"][partition]["rows"]
        assert results["partitions"][partition]["test_frames"] == 40
        assert {"Mean fusion", "Median fusion", "Untrained energy", "Learned fusion (lambda 0.1)"} <= set(rows)
        assert sum(row["kind"] == "tracker" for row in rows.values()) == 5
        assert all(0 <= row["iou_mean"] <= 1 for row in rows.values())


def test_bench_json_and_bad_partitions(capsys):
    assert main(["bench", "tracker-fusion", "--frames", "5", "--sequences", "4", "--partitions", "frames",
                 "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["partitions"]) == ["frames"]
    assert main(["bench", "tracker-fusion", "--partitions", "days"]) == 2
    assert "--partitions 'days'" in capsys.readouterr().err


def test_train_writes_weights_and_refuses_to_replace_them(tmp_path, capsys):
    out = tmp_path / "fusion.safetensors"
    tiny = ["--steps", "2", "--batch-size", "8", "--sequences", "4", "--validation-frames", "8",
            "--solver-iterations", "20"]
    assert main(["train", "tracker-fusion", "--out", str(out), *tiny]) == 0
    assert "test IoU" in capsys.readouterr().out and out.stat().st_size > 1000
    assert main(["train", "tracker-fusion", "--out", str(out), *tiny]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["solve", "tracker-fusion", "--sequences", "4", "--energy", str(out), "--solvers", "rbf+lbfgs"]) == 0
