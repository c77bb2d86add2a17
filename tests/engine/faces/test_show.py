"""`feedbacklab face show`."""
import numpy as np
import pytest
import torch

from engine.cli import main
from engine.faces.show import expression_vector, identity_vector, rotation_vectors, turned



def test_face_show_writes_a_png(tmp_path, capsys, gl):
    from PIL import Image

    out = tmp_path / "face.png"
    assert main(["face", "show", "--identity", "1,-0.5", "--expression", "jawOpen=0.5,eyeBlinkLeft=1",
                 "--rotation", "head=10,0,0", "--rotation", "eye_left=0,15,0", "--size", "96", "--out", str(out)]) == 0
    assert "96x96 default face (Anny)" in capsys.readouterr().out
    image = np.asarray(Image.open(out))
    assert image.shape == (96, 96, 3)
    face = (image < 250).any(axis=-1)
    assert 0.1 < face.mean() < 0.7 and face[48, 48]  # a face on a white background, centred
    marked = tmp_path / "marked.png"
    for argv in ([], ["--landmarks"]):
        assert main(["face", "show", "--yaw", "0", "--size", "128", *argv, "--out", str(marked), "--force"]) == 0
        image = np.asarray(Image.open(marked)).astype(int)
        if not argv:
            plain = image
    red = (image[..., 0] - image[..., 1] > 100) & (np.abs(image - plain).sum(axis=-1) > 30)
    assert red.sum() > 20  # the landmarks, drawn only when asked for


def test_face_show_with_a_model_file(tmp_path, capsys, gl):
    from engine.faces.model import DEFAULT_FACE

    model = tmp_path / "mine.npz"
    model.write_bytes(DEFAULT_FACE.read_bytes())
    assert main(["face", "show", "--model", str(model), "--size", "32", "--out", str(tmp_path / "f.png")]) == 0
    assert "mine.npz" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--expression", "smile=1"], "--expression: unknown facial expression 'smile'; default face (Anny) has "
                                  "browDownLeft"),
    (["--identity", "1,,2"], "--identity '1,,2': expected comma-separated numbers"),
    (["--identity", ",".join(["0.5"] * 31)], "--identity has 31 values but default face (Anny) has 30 identity"),
    (["--model", "{tmp}/none.npz"], "none.npz' does not exist"),
    (["--model", "{tmp}/bad.npz"], "bad.npz' cannot be read"),
])
def test_bad_input_gives_one_line_error(tmp_path, capsys, argv, message):
    (tmp_path / "bad.npz").write_text("garbage")
    out = tmp_path / "face.png"
    argv = ["face", "show", *[part.replace("{tmp}", str(tmp_path)) for part in argv], "--out", str(out)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("feedbacklab: error:") and message in err and "\n" not in err, err
    assert not out.exists() and not captured.out


@pytest.mark.parametrize("parse, text, message", [
    (expression_vector, "jawOpen", "expected NAME=VALUE pairs"),
    (expression_vector, "jawOpen=x", "--expression 'x': expected comma-separated numbers"),
    (expression_vector, "jawOpen=2", "--expression jawOpen must be a finite number from 0 to 1, got 2"),
    (identity_vector, "1,nan", "each value of --identity must be a finite number from -5 to 5"),
    (identity_vector, "", None),
])
def test_parsing(face, parse, text, message):
    if message is None:
        assert not parse(text, face).any()
        return
    with pytest.raises(ValueError, match=message):
        parse(text, face)


@pytest.mark.parametrize("spec, message", [
    ("jaw=1,2,3", "JOINT one of neck, head, eye_left, eye_right"),
    ("head", "JOINT one of"),
    ("head=1,2", "expected 3 numbers"),
    ("head=1,2,400", "--rotation head must be a finite number from -180 to 180"),
])
def test_bad_rotation(spec, message):
    with pytest.raises(ValueError, match=message):
        rotation_vectors([spec])


def test_bad_output_is_refused_before_work(tmp_path, capsys):
    assert main(["face", "show", "--out", str(tmp_path / "face.jpg")]) == 2
    assert ".png" in capsys.readouterr().err


def test_rotation_vectors_are_radians():
    rotations = rotation_vectors(["neck=0,90,0", "eye_right=0,0,-45"])
    assert rotations.shape == (1, 4, 3)
    assert torch.allclose(rotations[0, 0], torch.tensor([0.0, np.pi / 2, 0.0]))
    assert torch.allclose(rotations[0, 3], torch.tensor([0.0, 0.0, -np.pi / 4]))


def test_turned_shows_the_front_to_the_right():
    front = torch.tensor([[0.0, 0.0, 1.0]])
    assert torch.allclose(turned(front, torch.zeros(3), 90.0), torch.tensor([[1.0, 0.0, 0.0]]), atol=1e-7)
