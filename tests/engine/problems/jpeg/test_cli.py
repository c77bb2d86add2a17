"""jpeg through the command line: restoring a user's JPEG, render, the benchmark, and bad inputs."""
import json

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.problems.jpeg.images import read_image

from .conftest import textured_image


@pytest.fixture
def photo(tmp_path):
    """A JPEG of quality 20 of a procedural image, and its clean PNG."""
    clean = (textured_image(48, 64, colour=True) * 255).round().astype(np.uint8)
    Image.fromarray(clean).save(tmp_path / "clean.png")
    Image.fromarray(clean).save(tmp_path / "photo.jpg", quality=20)
    return tmp_path / "photo.jpg"


def test_solve_restores_a_users_jpeg_at_its_own_quality_into_a_png(photo, tmp_path, capsys):
    out = tmp_path / "restored.png"
    assert main(["solve", "jpeg", "--image", str(photo), "--solvers", "jpeg,feedback", "--out", str(out),
                 "--json"]) == 0
    printed = capsys.readouterr()
    solvers = json.loads(printed.out)["solvers"]
    assert "jpeg_psnr_mean" in solvers["feedback"] and "psnr_mean" not in solvers["feedback"]  # no clean image
    assert "a JPEG of quality 20 (estimated from its tables)" in printed.err and "feedback's estimate" in printed.err
    restored = read_image(out)
    assert restored.pixels.shape == (48, 64) and restored.quality is None


def test_solve_a_clean_image_reports_psnr_gain(photo, capsys):
    assert main(["solve", "jpeg", "--image", str(photo.with_name("clean.png")), "--quality", "10",
                 "--solvers", "jpeg,dncnn", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["solvers"]
    assert summary["dncnn"]["psnr_mean"] > summary["jpeg"]["psnr_mean"]


def test_render_writes_the_decoded_jpeg_losslessly(tmp_path, capsys):
    out = tmp_path / "y.png"
    assert main(["render", "jpeg", "--scene-size", "32", "--out", str(out)]) == 0
    assert read_image(out).pixels.shape == (32, 32)


@pytest.mark.parametrize("arguments, message", [
    (["--image", "missing.png"], "missing.png: no such image file"),
    (["--quality", "0"], "--quality"),
    (["--quality", "101"], "--quality"),
    (["--solvers", "lbfgs"], "cannot run solver"),
    (["--observation", "y.png"], "open a JPEG as the image"),
])
def test_bad_input_is_one_line(arguments, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("L", (16, 16)).save(tmp_path / "y.png")
    assert main(["solve", "jpeg", *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "Traceback" not in error and len(error.splitlines()) == 1


def test_an_opened_jpeg_has_no_ground_truth_to_render(photo, tmp_path, capsys):
    assert main(["render", "jpeg", "--image", str(photo), "--out", str(tmp_path / "y.png")]) == 0


def test_bench_prints_the_table_per_quality_with_dip_on_crops(tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    for seed in range(2):
        Image.fromarray((textured_image(40, 48, seed=seed) * 255).round().astype(np.uint8)).save(folder / f"{seed}.png")
    out = tmp_path / "bench.json"
    assert main(["bench", "jpeg", "--images", str(folder), "--quality", "10", "--solvers", "jpeg,tv,feedback,dip",
                 "--dip-images", "1", "--dip-crop", "32", "--dip-iterations", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| Solver | q10 PSNR / SSIM | s / image |" in printed and "PSNR after step 1, 2, 3" in printed
    results = json.loads(out.read_text())
    table = results["sets"]["set"]["table"]["10"]
    assert set(table) == {"jpeg", "tv", "feedback"} and len(table["feedback"]["psnr_by_step"]) == 4
    assert table["tv"]["psnr"] > table["jpeg"]["psnr"]
    assert set(results["dip_crops"]["set"]["table"]["10"]) == {"jpeg", "tv", "feedback", "dip"}
    assert set(results["seconds_per_512"]) == {"jpeg", "tv", "feedback", "dip"}


@pytest.mark.parametrize("arguments, message", [
    (["--quality", "10,abc"], "--quality '10,abc'"),
    (["--quality", "200"], "--quality"),
    (["--dip-iterations", "70"], "multiple of 50"),
    (["--images", "nowhere"], "nowhere: no such folder"),
])
def test_bench_refuses_bad_settings(arguments, message, tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    Image.new("L", (16, 16)).save(folder / "a.png")
    assert main(["bench", "jpeg", "--images", str(folder), *arguments]) == 2
    assert message in capsys.readouterr().err
