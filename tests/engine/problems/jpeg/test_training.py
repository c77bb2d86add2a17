import pytest
import torch

from engine.learn import train as training
from engine.learn.checkpoint import load_checkpoint
from engine.problems.jpeg.network import Restorer
from engine.problems.jpeg.training import JpegTask, JpegTrainConfig

TINY = dict(samples=8, validation_samples=4, epochs=1, batch_size=4, patch=16, depth=3, width=4, steps=2)


def test_feedback_training_writes_a_checkpoint_with_its_data(image_folder, tmp_path):
    path = training.train(JpegTask(JpegTrainConfig(**TINY), str(image_folder)), str(tmp_path / "out"), log=lambda m: None)
    checkpoint = load_checkpoint(path, Restorer)
    meta = checkpoint.meta
    assert path.endswith("jpeg-feedback.safetensors") and len(checkpoint.networks) == 2
    assert meta["training_set"]["folder"] == "clean" and meta["training_set"]["images"] == 5
    assert meta["training_set"]["held_out"] == 1 and meta["qualities"] == [10]
    assert str(image_folder) not in str(meta)  # no machine path in the checkpoint
    assert {"psnr", "jpeg_psnr"} == set(meta["validation"][0])


def test_dncnn_and_blind_training(image_folder, tmp_path):
    config = JpegTrainConfig(**{**TINY, "steps": 1}, feedback=False, blind=True)
    task = JpegTask(config, str(image_folder))
    data = task.training_data(8, (0, 1), lambda n: None)
    assert set(data.quality.tolist()) <= {10, 20, 30, 40} and data.clean.shape == (8, 1, 16, 16)
    path = training.train(task, str(tmp_path / "out"), log=lambda m: None)
    assert path.endswith("jpeg-dncnn.safetensors")


def test_validation_images_are_held_out(image_folder):
    task = JpegTask(JpegTrainConfig(**TINY), str(image_folder))
    assert len(task.train_files) == 5 and task.validation_files == [str(image_folder / "5.png")]


def test_warm_start_begins_each_stage_from_the_last(image_folder, tmp_path, monkeypatch):
    starts = []
    monkeypatch.setattr(training, "_fit", lambda task, network, *args: starts.append(
        {k: v.clone() for k, v in network.state_dict().items()}))
    for warm in (True, False):
        starts.clear()
        training.train(JpegTask(JpegTrainConfig(**TINY, warm_start=warm), str(image_folder)),
                       str(tmp_path / str(warm)), log=lambda m: None)
        same = all(torch.equal(starts[0][k], starts[1][k]) for k in starts[0])
        assert same == warm


def test_a_missing_or_empty_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no such folder of training images"):
        JpegTask(JpegTrainConfig(**TINY), str(tmp_path / "none"))
    with pytest.raises(ValueError, match="holds no"):
        JpegTask(JpegTrainConfig(**TINY), str(tmp_path))


def test_patches_larger_than_every_image_are_refused(image_folder):
    task = JpegTask(JpegTrainConfig(**{**TINY, "patch": 64}), str(image_folder))
    with pytest.raises(ValueError, match="at least 64 x 64"):
        task.training_data(8, (0, 1), lambda n: None)


def test_the_train_command_refuses_bad_settings_in_one_line(image_folder, tmp_path, capsys):
    from engine.cli import main

    train = ["train", "jpeg"]
    assert main([*train, "--images", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert main([*train, "--images", str(image_folder), "--out", str(tmp_path / "o"), "--quality", "0"]) == 2
    assert main([*train, "--images", str(image_folder), "--out", str(tmp_path / "o"), "--solver", "dncnn",
                 "--steps", "3"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "no such folder" in lines[0] and "--quality" in lines[1] and "exactly one step" in lines[2]


def test_the_train_command_trains(image_folder, tmp_path):
    from engine.cli import main

    flags = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items() if k != "steps"]
    assert main(["train", "jpeg", "--images", str(image_folder), "--out", str(tmp_path / "o"), "--solver", "dncnn", *flags]) == 0
    assert (tmp_path / "o" / "jpeg-dncnn.safetensors").exists()
