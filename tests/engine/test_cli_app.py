"""gui / demo / bench gui from the command line, on a machine without a display."""
import imageio.v3 as iio
import pytest

from engine.cli import main


@pytest.fixture
def no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)


def test_demo_without_display_records_instead(no_display, tmp_path, capsys):
    gif = tmp_path / "demo.gif"
    assert main(["demo", "--solvers", "feedback,regression", "--record", str(gif)]) == 0
    err = capsys.readouterr().err
    assert "no display" in err and f"recording the demo to {gif}" in err and "wrote" in err
    assert iio.imread(gif, index=None).shape[0] == 6  # feedback's 5 steps and its start


@pytest.mark.parametrize("argv, words", [
    (["gui"], "needs a desktop session"),
    (["bench", "gui"], "xvfb-run"),
    (["demo", "--record", "demo.avi"], ".gif or .mp4"),
    (["demo", "--record", "/no/such/dir/demo.gif"], "does not exist"),
    (["demo", "--solvers", "nmr,nope"], "cannot run solver"),
    (["gui", "--problem", "ik", "--mesh", "car.obj"], "--mesh: not an input of ik; its inputs are --motion"),
])
def test_bad_app_commands(no_display, argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1


def test_unreachable_display_is_an_error_not_a_crash(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":12345")
    assert main(["gui"]) == 2
    assert "cannot open the display ':12345'" in capsys.readouterr().err


def test_bench_gui_window_size(capsys):
    assert main(["bench", "gui", "--window", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_demo_does_not_overwrite_its_default_recording(no_display, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo.gif").write_text("an earlier demo")
    assert main(["demo", "--solvers", "regression"]) == 0
    assert "wrote demo-1.gif" in capsys.readouterr().err
    assert (tmp_path / "demo.gif").read_text() == "an earlier demo"
    assert iio.imread(tmp_path / "demo-1.gif", index=None).shape[0] == 2


@pytest.mark.parametrize("argv", [["demo", "--record", "{tmp}/there.gif"],
                                  ["bench", "gui", "--out", "{tmp}/there.json"]])
def test_app_commands_refuse_an_existing_file_without_force(no_display, tmp_path, capsys, argv):
    for name in ("there.gif", "there.json"):
        (tmp_path / name).write_text("keep me")
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    err = capsys.readouterr().err
    assert "the file exists; pass --force to overwrite it" in err and err.count("\n") == 1
    assert (tmp_path / "there.gif").read_text() == (tmp_path / "there.json").read_text() == "keep me"
