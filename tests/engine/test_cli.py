"""The command line end to end, in process, on small problems."""
import json

import imageio.v3 as iio
import pytest

from engine.cli import main
from engine.trace import Comparison

POSE = "0.98,0.1,0.1,0.1,0.05,-0.03,0.02"


def test_render_solve_replay(tmp_path, capsys):
    observation, trace, gif = tmp_path / "obs.png", tmp_path / "run.npz", tmp_path / "run.gif"
    assert main(["render", "pose6d", "--pose", POSE, "--size", "64", "--out", str(observation)]) == 0
    assert iio.imread(observation).shape == (64, 64)
    capsys.readouterr()
    code = main(["solve", "pose6d", "--observation", str(observation), "--gt-pose", POSE, "--solvers", "nmr,softras",
                 "--max-iterations", "4", "--record", str(gif), "--trace", str(trace), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["solvers"]) == {"nmr", "softras"}
    assert summary["solvers"]["nmr"]["steps"] == 4 and "rotation_error_deg_mean" in summary["solvers"]["nmr"]
    assert iio.imread(gif, index=None).shape[0] == 5
    softras = Comparison.load(trace).traces["softras"]
    assert softras.num_iterations == 5
    sigma = softras.info["sigma"][:, 0]  # the schedule, saved with the trace
    assert sigma[0] == pytest.approx(1e-3) and (sigma[1:] < sigma[:-1]).all()
    assert main(["replay", str(trace)]) == 0
    assert "| nmr |" in capsys.readouterr().out


def test_recordings_show_the_3d_view_and_replay_makes_it_again(tmp_path, capsys):
    """solve --record draws pose6d's 3D view (one picture more per column than the panels); replay loads the
    mesh the trace names to draw it again, and records without it, saying so, when it cannot."""
    from engine.record import record_comparison

    trace, solved, replayed, plain = (tmp_path / name for name in ("run.npz", "run.gif", "again.gif", "plain.gif"))
    assert main(["solve", "pose6d", "--size", "32", "--solvers", "nmr", "--max-iterations", "2", "--record",
                 str(solved), "--trace", str(trace)]) == 0
    comparison = Comparison.load(trace)
    record_comparison(comparison, plain)
    height = iio.imread(solved, index=0).shape[0]
    assert height > iio.imread(plain, index=0).shape[0] + 100
    assert main(["replay", str(trace), "--record", str(replayed)]) == 0
    assert iio.imread(replayed, index=0).shape[0] == height
    comparison.meta["mesh"] = str(tmp_path / "moved.obj")
    comparison.save(trace)
    capsys.readouterr()
    assert main(["replay", str(trace), "--record", str(replayed), "--force"]) == 0
    assert "note: recording without 3D (truth: white): " in capsys.readouterr().err
    assert iio.imread(replayed, index=0).shape == iio.imread(plain, index=0).shape


def test_solve_on_built_in_defaults_prints_table(capsys):
    assert main(["solve", "pose6d", "--size", "48", "--solvers", "nmr", "--max-iterations", "3"]) == 0
    out = capsys.readouterr().out
    assert "| nmr |" in out and "ground truth:" in out


def test_bench_pose6d_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "pose6d", "--n", "3", "--solvers", "nmr", "--max-iterations", "2", "--out", str(out)]) == 0
    assert "Outliers (%)" in capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results["n"] == 3 and results["solvers"]["nmr"]["problems"] == 3


def test_bench_speed_small(capsys):
    assert main(["bench", "speed", "--faces", "300", "--sizes", "32", "--steps", "2", "--solvers", "nmr"]) == 0
    assert "ms per render" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "pose6d", "--mesh", "missing.obj", "--out", "{tmp}/o.png"], "missing.obj"),
        (["render", "pose6d", "--pose", "1,2,3", "--out", "{tmp}/o.png"], "7 finite numbers"),
        (["render", "pose6d", "--out", "{tmp}/nowhere/o.png"], "does not exist"),
        (["render", "pose6d", "--size", "4", "--out", "{tmp}/o.png"], "--size"),
        (["render", "pose6d", "--pose", "1,0,0,0,5,0,0", "--out", "{tmp}/o.png"], "outside the image"),
        (["solve", "pose6d", "--solvers", "nmr,magic"], "pose6d cannot run solver"),
        (["solve", "pose6d", "--record", "{tmp}/run.avi"], ".gif or .mp4"),
        (["solve", "pose6d", "--observation", "{tmp}/none.png"], "no such observation"),
        (["solve", "pose6d", "--max-iterations", "0"], "--max-iterations"),
        (["replay", "{tmp}/none.npz"], "no such trace file"),
        (["bench", "pose6d", "--n", "0"], "--n"),
        (["bench", "pose6d", "--rotation-range", "50"], "--rotation-range"),
        (["bench", "pose6d", "--meshes", "{tmp}"], "no .obj"),
        (["body", "show", "--model", "{tmp}/SMPL_NEUTRAL.pkl", "--out", "{tmp}/b.png"], "does not exist"),
        (["body", "show", "--betas", "1,x", "--out", "{tmp}/b.png"], "comma-separated numbers"),
        (["body", "show", "--betas", ",".join(["0.5"] * 11), "--out", "{tmp}/b.png"], "11 betas were given"),
        (["body", "show", "--pose", "cartwheel", "--out", "{tmp}/b.png"], "neither a library pose"),
        (["body", "show", "--pose", "{tmp}/walk.bvh", "--out", "{tmp}/b.png"], "does not exist"),
        (["body", "show", "--out", "{tmp}/b.jpg"], ".png"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path, capsys, argv, message):
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("feedbacklab: error:") and message in err and "\n" not in err


def test_large_mesh_is_simplified_with_a_note(tmp_path, capsys):
    import trimesh

    sphere = trimesh.creation.icosphere(subdivisions=7)  # 327,680 faces
    sphere.export(tmp_path / "dense.ply")
    assert main(["render", "pose6d", "--mesh", str(tmp_path / "dense.ply"), "--out", str(tmp_path / "o.png")]) == 0
    assert "to 200000 faces" in capsys.readouterr().err


def test_train_then_solve_with_the_checkpoint(tmp_path, capsys):
    assert main(["train", "pose6d", "--out", str(tmp_path), "--steps", "2", "--samples", "16", "--epochs", "1",
                 "--size", "64"]) == 0
    checkpoint = tmp_path / "pose6d-feedback.safetensors"
    assert str(checkpoint) in capsys.readouterr().out
    assert main(["solve", "pose6d", "--size", "64", "--solvers", "feedback,feedback-damped", "--checkpoint",
                 str(checkpoint), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["solvers"]["feedback"]["steps"] == 2
    assert main(["solve", "pose6d", "--size", "96", "--solvers", "feedback", "--checkpoint", str(checkpoint)]) == 2
    assert "64 px" in capsys.readouterr().err


def test_bench_with_learned_solver_prints_step_table(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "pose6d", "--n", "3", "--size", "64", "--solvers", "nmr,feedback", "--max-iterations", "2",
                 "--checkpoint", tiny_checkpoint, "--unseen", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Error after k steps" in printed and "feedback is" in printed and "feedback 55-60" in printed
    results = json.loads(out.read_text())
    assert set(results["unseen_rotations"]) == {"40-45", "45-50", "50-55", "55-60"}
    split = results["time_split_ms"]["feedback"]
    assert split["render_ms"] > 0 and split["network_ms"] > 0 and "ms pyrender +" in printed


def test_body_show_writes_a_png(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "body.png"
    assert main(["body", "show", "--betas", "1,-0.5", "--pose", "stride", "--size", "96", "--out", str(out)]) == 0
    assert "6890 vertices" in capsys.readouterr().out
    image = Image.open(out)
    assert image.size == (96, 96) and image.mode == "RGB"


def _refused_before_any_work(tmp_path, capsys, argv, message):
    """The command exits 2 with one line naming what is wrong, having written and printed nothing else."""
    try:
        code = main([part.replace("{tmp}", str(tmp_path)) for part in argv])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and err.startswith("feedbacklab: error:") and message in err and "\n" not in err, err
    assert not captured.out and not [path for path in tmp_path.iterdir() if path.name != "garbage.npz"]
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["solve", "pose6d", "--lr", "nan"], "--lr must be a finite number above 0 and at most 10, got nan"),
        (["solve", "pose6d", "--lr", "inf"], "--lr must be"),
        (["solve", "pose6d", "--lr", "1e30"], "--lr must be"),
        (["solve", "pose6d", "--sigma", "nan"], "--sigma must be"),
        (["solve", "pose6d", "--sigma", "1e-5", "--sigma-final", "1e-4"],
         "--sigma-final 0.0001 is above --sigma 1e-05"),
        (["bench", "pose6d", "--sigma-steps", "-1"], "--sigma-steps must be a whole number from 0 to 100000"),
        (["solve", "pose6d", "--fov-y-deg", "nan"], "--fov-y-deg must be a finite number from 1 to 170"),
        (["bench", "pose6d", "--lr", "nan"], "--lr must be"),
        (["solve", "ik", "--lr", "-1"], "--lr must be"),
        (["solve", "ik", "--prior-weight", "inf"], "--prior-weight must be"),
    ],
)
def test_bad_numbers_give_one_line_error(tmp_path, capsys, argv, message):
    _refused_before_any_work(tmp_path, capsys, argv, message)


def test_too_large_observation_is_refused_before_decoding(tmp_path, capsys):
    from tests.engine.test_images import _png_header

    path = _png_header(tmp_path / "huge.png", 8000, 8000)
    assert main(["solve", "pose6d", "--observation", str(path)]) == 2
    assert "larger than the limit of 2048 pixels per side" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "pose6d", "--out", "{tmp}", "--samples", "1"], "--samples must be a whole number from 2 to"),
        (["train", "pose6d", "--out", "{tmp}", "--size", "4096"], "--size must be a whole number from 32 to 2048"),
        (["train", "pose6d", "--out", "{tmp}", "--size", "100"], "divisible by 32"),
        (["train", "pose6d", "--out", "{tmp}", "--steps", "1000000"], "--steps must be a whole number from 1 to 20"),
        (["solve", "pose6d", "--solvers", "nmr", "--checkpoint", "{tmp}/c.safetensors"],
         "only learned solvers read a checkpoint and --solvers nmr has none; add one of feedback"),
        (["solve", "ik", "--checkpoint", "{tmp}/c.safetensors"], "--solvers adam,lbfgs,lm has none; add one of feedback"),
    ],
)
def test_training_sizes_and_checkpoint_use_are_checked_first(tmp_path, capsys, argv, message):
    _refused_before_any_work(tmp_path, capsys, argv, message)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["replay", "{tmp}/garbage.npz"], "garbage.npz: not a feedbacklab trace: it is neither a .npy array nor an "
                                          ".npz archive (pickled data is never loaded)"),
        (["body", "show", "--pose", "{tmp}/garbage.npz", "--out", "{tmp}/b.png"], "could not read 'garbage.npz'"),
        (["render", "pose6d", "--pose", "1,0,0,0,nan,0,0", "--out", "{tmp}/o.png"], "has a NaN or infinite number"),
        (["solve", "pose6d", "--seed", "1e20"], "--seed: expected a whole number from 0 to 9223372036854775807"),
        (["solve", "pose6d", "--seed", "100000000000000000000"], "--seed: expected a whole number from 0 to"),
        (["bench", "speed", "--faces", "x"], "--faces 'x': expected a whole number from 4 to 200000"),
        (["solve", "pose6d", "--image-size", "1e3"], "--image-size (--size) '1e3': expected an integer from 16 to 2048"),
    ],
)
def test_messages_are_one_line_in_the_projects_words(tmp_path, capsys, argv, message):
    (tmp_path / "garbage.npz").write_bytes(bytes(range(256)) * 4)
    err = _refused_before_any_work(tmp_path, capsys, argv, message)
    for leak in ("allow_pickle", "invalid literal", "Overflow", "Traceback", "got 7"):
        assert leak not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "pose6d", "--pose", "", "--out", "{tmp}/o.png"], "pose '' is not 7 comma-separated numbers"),
        (["solve", "ik", "--gt", ""], "'' is not an ik pose"),
        (["solve", "pose6d", "--init-pose", ""], "pose '' is not 7 comma-separated numbers"),
        (["solve", "pose6d", "--size", "32", "--init-pose", "1,0,0,0,5,0,0"],
         "--init 1,0,0,0,5,0,0: that pose puts the object outside the image"),
        (["body", "show", "--pose", "", "--out", "{tmp}/b.png"], "pose '' is neither a library pose"),
        (["body", "show", "--frame", "5", "--out", "{tmp}/b.png"], "--frame 5: give --pose a motion"),
        (["body", "show", "--pose", "squat", "--frame", "5", "--out", "{tmp}/b.png"], "'squat' is a single pose"),
        (["body", "show", "--betas", "1e6,-1e6", "--out", "{tmp}/b.png"], "each value of --betas must be a finite "
                                                                         "number from -5 to 5"),
        (["bench", "speed", "--steps", "0"], "--steps: expected a whole number from 1 to 10000, got '0'"),
    ],
)
def test_small_silent_acceptances_are_refused(tmp_path, capsys, argv, message):
    _refused_before_any_work(tmp_path, capsys, argv, message)


@pytest.fixture
def no_work(monkeypatch):
    """Every command's work (solving, benchmarking, training, rendering a body, reading a trace) fails the test
    if it starts: an output that cannot be written must be refused before any of it."""
    import engine.bodies.model
    import engine.cli
    import engine.compare
    import engine.learn.run
    import engine.problems.ik.commands
    import engine.problems.ik.data
    import engine.problems.pose6d.bench

    def started(*args, **kwargs):
        raise AssertionError("the command started its work before checking its outputs")

    for owner, name in [(engine.cli, "make_instances"), (engine.compare, "run_comparison"),
                        (engine.problems.ik.commands, "run_comparison"), (engine.problems.ik.data, "split_poses"),
                        (engine.problems.pose6d.bench, "accuracy_benchmark"),
                        (engine.problems.pose6d.bench, "step_timings"), (engine.learn.run, "run_training"),
                        (engine.bodies.model, "load_body"), (Comparison, "load")]:
        monkeypatch.setattr(owner, name, started)


@pytest.mark.parametrize("argv, message", [
    (["solve", "pose6d", "--record", "{tmp}/run.gif", "--fps", "0"], "--fps 0: choose from 1 to 50"),
    (["solve", "pose6d", "--record", "{tmp}/run.gif", "--fps", "1000"], "--fps 1000"),
    (["solve", "pose6d", "--record", "{tmp}/run.gif", "--max-frames", "0"], "--max-frames 0: choose from 11"),
    (["replay", "{tmp}/t.npz", "--record", "{tmp}/run.gif", "--max-frames", "5"], "--max-frames 5"),
    (["solve", "pose6d", "--trace", "{tmp}/folder.npz"], "--trace {tmp}/folder.npz: is a directory"),
    (["solve", "pose6d", "--record", "{tmp}/folder.gif"], "--record {tmp}/folder.gif: is a directory"),
    (["render", "pose6d", "--out", "{tmp}/folder.png"], "--out {tmp}/folder.png: is a directory"),
    (["body", "show", "--out", "{tmp}/folder.png"], "--out {tmp}/folder.png: is a directory"),
    (["bench", "pose6d", "--out", "{tmp}/folder.json"], "--out {tmp}/folder.json: is a directory"),
    (["bench", "speed", "--out", "{tmp}/folder.json"], "is a directory"),
    (["bench", "ik", "--out", "{tmp}/folder.json"], "is a directory"),
    (["bench", "ik", "--out", "{tmp}/nowhere/r.json"], "does not exist"),
    (["train", "pose6d", "--out", "{tmp}/file.txt"], "--out {tmp}/file.txt: is a file, not a directory"),
])
def test_outputs_and_their_settings_are_checked_before_any_work(tmp_path, capsys, no_work, argv, message):
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "folder.gif").mkdir()
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "file.txt").write_text("")
    (tmp_path / "t.npz").write_bytes(b"")
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("feedbacklab: error:") and message.replace("{tmp}", str(tmp_path)) in err
    assert "\n" not in err


@pytest.mark.parametrize("argv, flag", [
    (["render", "pose6d", "--out", "{tmp}/there.png"], "--out"),
    (["solve", "pose6d", "--record", "{tmp}/there.gif"], "--record"),
    (["solve", "pose6d", "--trace", "{tmp}/there.npz"], "--trace"),
    (["replay", "{tmp}/t.npz", "--record", "{tmp}/there.gif"], "--record"),
    (["body", "show", "--out", "{tmp}/there.png"], "--out"),
    (["bench", "pose6d", "--out", "{tmp}/there.json"], "--out"),
    (["bench", "speed", "--out", "{tmp}/there.json"], "--out"),
    (["bench", "ik", "--out", "{tmp}/there.json"], "--out"),
    (["train", "pose6d", "--out", "{tmp}", "--steps", "2"], "--out"),
])
def test_an_existing_file_is_not_overwritten_without_force(tmp_path, capsys, no_work, argv, flag):
    for name in ("there.png", "there.gif", "there.npz", "there.json", "pose6d-feedback.safetensors"):
        (tmp_path / name).write_text("keep me")
    (tmp_path / "t.npz").write_bytes(b"")
    assert main([part.replace("{tmp}", str(tmp_path)) for part in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{flag} {tmp_path}" in err and "the file exists; pass --force to overwrite it" in err and "\n" not in err
    assert all(path.read_text() == "keep me" for path in tmp_path.glob("there.*"))


def test_force_overwrites(tmp_path, capsys):
    out = tmp_path / "obs.png"
    out.write_text("old")
    assert main(["render", "pose6d", "--size", "32", "--out", str(out), "--force"]) == 0
    assert iio.imread(out).shape == (32, 32)


def test_train_into_a_busy_directory_is_refused_at_once(tmp_path, capsys):
    import fcntl

    with open(tmp_path / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["train", "pose6d", "--out", str(tmp_path), "--steps", "1", "--samples", "16", "--epochs", "1",
                     "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: another feedbacklab process is writing to this directory" in err and err.count("\n") == 1


def test_a_failed_render_keeps_the_observation_that_was_there(tmp_path, capsys, monkeypatch):
    import imageio.v3

    out = tmp_path / "obs.png"
    assert main(["render", "pose6d", "--size", "32", "--out", str(out)]) == 0
    before = out.read_bytes()
    monkeypatch.setattr(imageio.v3, "imwrite", lambda *args, **kwargs: (_ for _ in ()).throw(OSError(28, "Disk full")))
    assert main(["render", "pose6d", "--size", "32", "--seed", "1", "--out", str(out), "--force"]) == 2
    assert f"{out}: could not be written (Disk full); the file that was there is unchanged" in capsys.readouterr().err
    assert out.read_bytes() == before and sorted(tmp_path.iterdir()) == [out]
