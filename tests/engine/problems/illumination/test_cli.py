"""illumination through the command line: render an observation, solve the user's own image, the benchmark,
and bad inputs (one line, exit 2)."""
import json

import numpy as np
import pytest
from PIL import Image

from engine.cli import main

SMALL = ["--image-size", "64"]


def test_render_then_solve_the_rendered_image(tmp_path, capsys):
    observation = tmp_path / "light.png"
    assert main(["render", "illumination", "--mesh", "chair-3", "--gt", "0.4,0.5,0.77", *SMALL,
                 "--out", str(observation)]) == 0
    assert np.asarray(Image.open(observation)).shape == (64, 64, 3)
    capsys.readouterr()
    assert main(["solve", "illumination", "--mesh", "chair-3", "--observation", str(observation), "--gt",
                 "0.4,0.5,0.77", "--solvers", "nmr", "--max-iterations", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["solvers"]["nmr"]
    assert summary["steps"] == 5 and "angle_error_deg_mean" in summary


def test_bench_prints_table_4_for_each_light(capsys):
    assert main(["bench", "illumination", "--n", "2", "--solvers", "nmr,nmr-point", "--max-iterations", "2"]) == 0
    printed = capsys.readouterr().out
    assert "## directional light (Table 4)" in printed and "## point light (Table 4)" in printed
    assert "| nmr-point |" in printed and "One NMR-style step" in printed


@pytest.mark.parametrize("make, message", [
    (lambda path: Image.new("L", (64, 64)).save(path), "greyscale"),
    (lambda path: Image.new("RGB", (64, 48)).save(path), "square"),
    (lambda path: path.write_text("not an image"), "cannot read the image"),
])
def test_solve_refuses_a_bad_observation_in_one_line(tmp_path, capsys, make, message):
    path = tmp_path / "bad.png"
    make(path)
    assert main(["solve", "illumination", "--observation", str(path), "--solvers", "nmr"]) == 2
    error = capsys.readouterr().err
    assert message in error and str(path) in error and error.count("\n") == 1


@pytest.mark.parametrize("arguments, message", [
    (["solve", "illumination", "--gt", "0.1,0,0.2"], "inside the object"),
    (["solve", "illumination", "--light", "spot"], "choose one of directional, point"),
    (["bench", "illumination", "--light", "ambient"], "--light 'ambient'"),
])
def test_bad_settings_are_one_line(arguments, message, capsys):
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
