"""The ik training task: training poses, random roots, the checkpoint's record, determinism and learning."""
import math

import pytest
import torch

from engine.learn.checkpoint import load_checkpoint
from engine.problems.ik import kinematics
from engine.problems.ik.data import MOTION_SHARE, default_rest_joints, load_motion, training_poses
from engine.problems.ik.networks import JointNetwork
from engine.problems.ik.training import ROOT_TILT_DEG, IKTask, IKTrainConfig, pose_errors, with_random_roots

from .conftest import train_tiny_ik
from .test_data import legs_bvh, write


def test_the_checkpoint_records_the_run(tiny_ik_checkpoint):
    checkpoint = load_checkpoint(tiny_ik_checkpoint, JointNetwork)
    meta = checkpoint.meta
    assert meta["problem"] == "ik" and meta["architecture"] == "joint-mlp" and meta["solver"] == "feedback"
    assert len(checkpoint.networks) == 2 and len(meta["validation"]) == 2
    assert meta["skeleton"]["joints"] == 24 and len(meta["skeleton"]["rest_joints"]) == 24
    assert {"position_error_mean", "rotation_error_median"} <= set(meta["validation"][0])
    assert meta["training_set"]["samples"] == 64 and meta["train_seconds"] > 0


def test_training_is_deterministic(tmp_path):
    first = load_checkpoint(train_tiny_ik(tmp_path / "a", steps=1), JointNetwork)
    second = load_checkpoint(train_tiny_ik(tmp_path / "b", steps=1), JointNetwork)
    for (name, p), q in zip(first.networks[0].state_dict().items(), second.networks[0].state_dict().values()):
        assert torch.equal(p, q), name


def test_training_learns(tmp_path):
    """A few epochs on a few hundred poses already beat the rest pose on the validation split."""
    path = train_tiny_ik(tmp_path, steps=1, samples=512, epochs=8, batch_size=64, hidden=64, validation_samples=64)
    task = IKTask(IKTrainConfig(validation_samples=64), default_rest_joints())
    validation = task.validation_data()
    rest_pose = pose_errors(task.initial(validation), validation.poses, validation.targets, task.rest_joints)
    trained = load_checkpoint(path, JointNetwork).meta["validation"][0]
    assert trained["position_error_mean"] < 0.8 * rest_pose["position_error_mean"]


def test_random_roots_turn_only_the_root_by_a_bounded_tilt():
    poses = torch.zeros(200, 24, 3)
    poses[:, 5, 0] = 0.3
    turned = with_random_roots(poses, torch.Generator().manual_seed(0))
    assert torch.equal(turned[:, 1:], poses[:, 1:])
    root = kinematics.rotations_from_x(turned.reshape(200, -1))[:, 0]
    tilt = torch.rad2deg(torch.acos(root[:, 1, 1].clamp(-1, 1)))  # the angle between the body's up and +y
    assert tilt.max() <= ROOT_TILT_DEG + 1e-3 and turned[:, 0].norm(dim=1).max() > math.radians(150)


def test_training_poses_mix_in_the_motion_capture(tmp_path, monkeypatch):
    frames = load_motion(write(tmp_path, legs_bvh(5), "Boxing_Toes.bvh"))
    monkeypatch.setenv("FEEDBACKLAB_CMU_DIR", str(tmp_path))
    poses = training_poses(100, seed=1)
    assert poses.shape == (100, 24, 3)
    from_motion = int(MOTION_SHARE * 100)
    distance = (poses[:, None] - frames[None]).flatten(2).norm(dim=2).min(dim=1).values  # to the nearest frame
    assert distance[-from_motion:].max() < 1e-6 and distance[:-from_motion].min() > 0.1
    monkeypatch.setenv("FEEDBACKLAB_CMU_DIR", str(tmp_path / "none"))
    assert training_poses(10, seed=1).shape == (10, 24, 3)  # without the clips: the train split alone


@pytest.mark.parametrize("values, message", [
    (dict(feedback=False, steps=3), "exactly one step"),
    (dict(rotation_weight=-1.0), "--rotation-weight must be a finite number from 0"),
    (dict(samples=1), "--samples must be a whole number from 2"),
])
def test_bad_settings(values, message):
    with pytest.raises(ValueError, match=message):
        IKTrainConfig(**values)


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    from engine.learn import train as training

    original_fit, calls = training._fit, []

    def crash_in_second_stage(task, network, data, stage, *args):
        calls.append(stage)
        if stage == 1 and len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original_fit(task, network, data, stage, *args)

    monkeypatch.setattr(training, "_fit", crash_in_second_stage)
    with pytest.raises(RuntimeError, match="simulated"):
        train_tiny_ik(tmp_path)
    assert load_checkpoint(train_tiny_ik(tmp_path), JointNetwork).steps == 2
    assert calls == [0, 1, 1]  # the first stage came from the partial checkpoint


def test_two_process_training_with_gloo(tmp_path):
    """train ik through torchrun, as pose6d's: two CPU processes, DDP averaging the gradients."""
    import os
    import subprocess
    import sys

    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command = torchrun + ["-m", "engine.cli", "train", "ik", "--out", str(tmp_path), "--steps", "2", "--samples", "32",
                          "--validation-samples", "8", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                          "--layers", "1"]
    environment = dict(os.environ, OMP_NUM_THREADS="1", FEEDBACKLAB_DEVICE="cpu")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    checkpoint = load_checkpoint(tmp_path / "ik-feedback.safetensors", JointNetwork)
    assert checkpoint.meta["processes"] == 2 and checkpoint.steps == 2 and "stage 2/2" in result.stderr
