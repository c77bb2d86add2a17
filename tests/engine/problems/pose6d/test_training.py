import pytest
import torch

from engine.problems.pose6d.training import Pose6DTrainConfig, apply_update, update_target


from engine.rotations import random_axis_angle_quaternions, rotation_angle_between


def test_additive_target_and_update_are_inverse():
    x = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0]])
    truth = torch.tensor([[-0.9, -0.1, 0.3, 0.0, 0.1, 0.0, -0.2]])  # the quaternion's sign is irrelevant
    target = update_target(x, truth, relative=False)
    assert target.shape == (1, 7) and target[0, 0] == pytest.approx(-0.1)  # towards +(0.9, ...), not -(0.9, ...)
    reached = apply_update(x, target, relative=False)
    assert torch.allclose(reached[0, 4:], truth[0, 4:])
    assert torch.allclose(reached[0, :4].abs(), (truth[0, :4] / truth[0, :4].norm()).abs(), atol=1e-6)


def test_relative_target_and_update_are_inverse_from_any_estimate():
    generator = torch.Generator().manual_seed(3)
    x = torch.cat([random_axis_angle_quaternions(6, 0, 120, generator), torch.rand(6, 3, generator=generator)], 1)
    truth = torch.cat([random_axis_angle_quaternions(6, 0, 120, generator), torch.rand(6, 3, generator=generator)], 1)
    target = update_target(x, truth, relative=True)
    assert target.shape == (6, 6)
    reached = apply_update(x, target, relative=True)
    assert torch.allclose(reached[:, 4:], truth[:, 4:], atol=1e-6)
    assert rotation_angle_between(reached[:, :4], truth[:, :4]).max() < 1e-3


def test_relative_update_turns_about_camera_axes():
    """The rotation vector's angle is the rotation error, and a turn about z keeps the z axis where it was."""
    x = torch.tensor([[1.0, 0, 0, 0, 0, 0, 0]])
    half = torch.tensor(0.25)  # a turn of 0.5 rad about z
    truth = torch.tensor([[half.cos(), 0, 0, half.sin(), 0, 0, 0]])
    target = update_target(x, truth, relative=True)
    assert torch.allclose(target[0, :3], torch.tensor([0.0, 0.0, 0.5]), atol=1e-6)
    assert torch.equal(target[0, 3:], torch.zeros(3))


def test_image_size_must_suit_the_network():
    with pytest.raises(ValueError, match="divisible by 32"):
        Pose6DTrainConfig(image_size=100)
    with pytest.raises(ValueError, match="--size"):
        Pose6DTrainConfig(image_size=8)


def test_added_meshes_and_variants_count_in_the_checkpoint_metadata(tmp_path):
    from engine.learn.checkpoint import load_checkpoint
    from engine.cli import main
    from engine.problems.pose6d.network import UpdateNetwork
    from engine.procedural import make_object

    make_object("lamp", 3).to_trimesh().export(tmp_path / "lamp.obj")
    out = tmp_path / "run"
    assert main(["train", "pose6d", "--out", str(out), "--steps", "1", "--samples", "8", "--epochs", "1", "--size", "32",
                 "--variants", "2", "--hidden", "8", "--width", "2", "--add-meshes", str(tmp_path / "lamp.obj")]) == 0
    checkpoint = load_checkpoint(out / "pose6d-feedback.safetensors", UpdateNetwork)
    training_set = checkpoint.meta["training_set"]
    assert training_set["added"] == 1 and training_set["train"] == 351  # the procedural train split and the lamp
    assert training_set["variants"] == 2 * training_set["train"]
    assert checkpoint.networks[0].config.relative_update


def test_added_meshes_that_do_not_load_are_named(tmp_path, capsys):
    from engine.cli import main

    (tmp_path / "broken.obj").write_text("not a mesh")
    assert main(["train", "pose6d", "--out", str(tmp_path / "run"), "--samples", "8",
                 "--add-meshes", str(tmp_path / "broken.obj")]) == 2
    err = capsys.readouterr().err
    assert "broken.obj" in err and err.count("\n") == 1
