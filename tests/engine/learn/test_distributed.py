"""Multi-process training through torch.distributed: torchrun, DDP, gloo on the CPU, two processes."""
import os
import subprocess
import sys

from engine.learn.checkpoint import load_checkpoint
from engine.problems.pose6d.network import UpdateNetwork


def test_two_process_training_with_gloo(tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command = torchrun + ["-m", "engine.cli", "train", "pose6d", "--out", str(tmp_path), "--steps", "2",
                          "--samples", "32", "--epochs", "1", "--size", "64"]
    environment = dict(os.environ, OMP_NUM_THREADS="1", FEEDBACKLAB_DEVICE="cpu")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    checkpoint = load_checkpoint(tmp_path / "pose6d-feedback.safetensors", UpdateNetwork)
    assert checkpoint.meta["processes"] == 2 and checkpoint.steps == 2
    assert "stage 2/2" in result.stderr


def test_two_process_training_of_a_learned_fitter(tmp_path):
    from engine.learn.fitter_network import fitter_class

    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command = torchrun + ["-m", "engine.cli", "train", "body-keypoints", "--out", str(tmp_path), "--samples", "32",
                          "--validation-samples", "8", "--epochs", "1", "--batch-size", "8", "--hidden", "8",
                          "--initialiser-hidden", "8", "--iterations", "2"]
    environment = dict(os.environ, OMP_NUM_THREADS="1", FEEDBACKLAB_DEVICE="cpu")
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    checkpoint = load_checkpoint(tmp_path / "body-keypoints-lf.safetensors", fitter_class("body-keypoints"))
    assert checkpoint.meta["processes"] == 2 and checkpoint.networks[0].config.iterations == 2
