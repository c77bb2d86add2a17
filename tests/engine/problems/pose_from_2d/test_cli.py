"""pose-from-2d through the command line: render, solve, bench and train, and their bad inputs."""
import json

from engine.cli import main

from .conftest import TINY_TRAINING


def test_render_then_solve_a_monocular_observation(tmp_path, capsys):
    observation = tmp_path / "joints.npy"
    assert main(["render", "pose-from-2d", "--cameras", "1", "--energy", "untrained", "--gt", "squat",
                 "--out", str(observation)]) == 0
    capsys.readouterr()
    assert main(["solve", "pose-from-2d", "--energy", "untrained", "--observation", str(observation), "--gt",
                 "squat", "--solvers", "search,search+lm", "--max-iterations", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["config"]["cameras"] == 1  # from the file
    assert summary["solvers"]["search+lm"]["mpjpe_mm_mean"] < 250


def test_bench_prints_table_2(tmp_path, capsys, tiny_weights):
    out = tmp_path / "bench.json"
    assert main(["bench", "pose-from-2d", "--n", "2", "--categories", "sampler,squat", "--max-iterations", "3",
                 "--mono-energy", str(tiny_weights), "--multi-energy", "untrained", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| MPJPE (mm) | sampler | squat | Avg |" in printed and "| Multi-camera: learned |" in printed
    results = json.loads(out.read_text())
    assert set(results["mpjpe_mm"]) == {"Monocular: baseline", "Monocular: learned", "Multi-camera: baseline",
                                        "Multi-camera: learned"}
    assert results["reduction_percent"]["Multi-camera"] == 0.0  # both rows untrained


def test_bench_refuses_unknown_columns_and_missing_energies(tmp_path, capsys):
    assert main(["bench", "pose-from-2d", "--n", "1", "--categories", "dance"]) == 2
    assert "--categories: no column dance" in capsys.readouterr().err
    assert main(["bench", "pose-from-2d", "--mono-energy", str(tmp_path / "none.safetensors")]) == 2
    assert "no such energy weights file" in capsys.readouterr().err


def test_train_refuses_to_replace_weights_and_other_rigs(tmp_path, capsys, tiny_weights):
    assert main(["train", "pose-from-2d", "--cameras", "1", "--out", str(tiny_weights), *TINY_TRAINING]) == 2
    assert "the file exists; pass --force" in capsys.readouterr().err
    assert main(["train", "pose-from-2d", "--cameras", "2", "--out", str(tmp_path / "w.safetensors")]) == 2
    assert "--cameras 2: choose 1" in capsys.readouterr().err
