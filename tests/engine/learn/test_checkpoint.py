import json
import re

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine.learn.checkpoint import CheckpointError, check_kind, load_checkpoint, save_checkpoint
from engine.problems.pose6d.network import NetworkConfig, UpdateNetwork


def test_round_trip(tmp_path):
    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, [network, network], {"steps": 2})
    loaded = load_checkpoint(path, UpdateNetwork)
    assert loaded.steps == 2 and len(loaded.networks) == 2 and not loaded.networks[0].training
    assert loaded.meta["problem"] == "pose6d" and loaded.meta["architecture"] == "silhouette-cnn"
    assert loaded.network_for_step(7) is loaded.networks[1]
    check_kind(loaded, str(path), "feedback", True)


class OtherNetwork(UpdateNetwork):
    """The same weights under another problem's and architecture's name."""

    problem = "ik"
    architecture = "joint-mlp"


@pytest.mark.parametrize("network_class, message", [
    (OtherNetwork, "trained for problem 'pose6d', not 'ik'; give a checkpoint made by `feedbacklab train ik`"),
])
def test_a_checkpoint_for_another_problem_is_refused(tmp_path, network_class, message):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, [UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))], {"steps": 1})
    with pytest.raises(CheckpointError, match=re.escape(message)):
        load_checkpoint(path, network_class)


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    class Renamed(UpdateNetwork):
        architecture = "silhouette-mlp"

    path = tmp_path / "model.safetensors"
    save_checkpoint(path, [UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))], {"steps": 1})
    with pytest.raises(CheckpointError, match="holds 'silhouette-cnn' networks, not the 'silhouette-mlp'"):
        load_checkpoint(path, Renamed)


def test_version_1_headers_are_pose6d_silhouette_networks(tmp_path):
    """Checkpoints written before the architecture was recorded still load, as what they were."""
    path = _rewritten(_tiny_checkpoint(tmp_path / "model.safetensors"), {"version": 1, "architecture": None})
    assert load_checkpoint(path, UpdateNetwork).steps == 1
    with pytest.raises(CheckpointError, match="trained for problem 'pose6d'"):
        load_checkpoint(path, OtherNetwork)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.safetensors", UpdateNetwork)
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="bad.safetensors: not a safetensors checkpoint"):
        load_checkpoint(tmp_path / "bad.safetensors", UpdateNetwork)


def _tiny_checkpoint(path, feedback=True):
    network = UpdateNetwork(NetworkConfig(image_size=32, width=2, hidden=4, feedback=feedback))
    save_checkpoint(path, [network], {"problem": "pose6d", "steps": 1, "completed_stages": 1,
                                      "solver": "feedback" if feedback else "regression"})
    return path


def _rewritten(path, header_changes=None, network_changes=None, tensor_change=None):
    """The checkpoint at path with its header and weights changed as a damaged or hostile file would have them."""
    with safe_open(path, framework="pt") as file:
        header = json.loads(file.metadata()["feedbacklab"])
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    header.update(header_changes or {})
    header["network"].update(network_changes or {})
    if tensor_change is not None:
        tensor_change(tensors)
    save_file(tensors, path, metadata={"feedbacklab": json.dumps(header)})
    return path


def _nan_weights(tensors):
    tensors["net0.head.0.weight"][0, 0] = float("nan")


@pytest.mark.parametrize("header, network, tensors, message", [
    ({"networks": -5}, None, None, "networks must be a whole number from 1 to 20, got -5"),
    ({"steps": 1000000}, None, None, "steps must be a whole number from 1 to 20, got 1000000"),
    ({"steps": "5"}, None, None, "steps must be a whole number"),
    ({"networks": 3}, None, None, "3 networks for 1 of 1 steps"),
    (None, {"width": 4096}, None, "width must be a whole number from 1 to 128, got 4096"),
    (None, {"width": 3}, None, "its weights do not fit the 1 network(s) its header describes"),
    (None, {"hidden": -1}, None, "hidden must be"),
    (None, {"feedback": "yes"}, None, "damaged checkpoint header"),
    (None, {"image_size": 100}, None, "divisible by 32"),
    (None, None, _nan_weights, "NaN or infinite weights"),
    (None, None, lambda t: t.pop("net0.head.0.bias"), "its weights do not fit"),
])
def test_damaged_or_hostile_header_is_refused_in_one_line(tmp_path, header, network, tensors, message):
    path = _rewritten(_tiny_checkpoint(tmp_path / "model.safetensors"), header, network, tensors)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path, UpdateNetwork)
    text = str(error.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text and len(text) < 300


def test_a_checkpoint_of_the_other_kind_is_refused_naming_both(tmp_path):
    from engine.problems.registry import get_problem

    spec = get_problem("pose6d")
    feedback = _tiny_checkpoint(tmp_path / "feedback.safetensors")
    with pytest.raises(CheckpointError, match="a feedback checkpoint .* cannot run as the regression solver"):
        spec.make_solver("regression", checkpoint=str(feedback))
    regression = _tiny_checkpoint(tmp_path / "regression.safetensors", feedback=False)
    with pytest.raises(CheckpointError, match="a regression checkpoint .* cannot run as the feedback solver"):
        spec.make_solver("feedback", checkpoint=str(regression))


def test_a_failed_save_keeps_the_checkpoint_that_was_there(tmp_path, full_disk):
    import engine.learn.checkpoint as checkpoint_module

    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    path = tmp_path / "model.safetensors"
    full_disk(path, lambda: save_checkpoint(path, [network], {"problem": "pose6d", "steps": 1}), checkpoint_module,
              "save_file")


def test_checkpoints_get_the_permissions_of_any_new_file(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = tmp_path / "model.safetensors"
        save_checkpoint(path, [UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))], {"problem": "pose6d"})
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)


def test_half_checkpoints_store_float16_and_load_as_float32(tmp_path):
    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    save_checkpoint(full, [network], {"steps": 1})
    save_checkpoint(half, [network], {"steps": 1}, half=True)
    with safe_open(half, framework="pt") as file:
        assert file.get_tensor("net0.head.0.weight").dtype == torch.float16
    loaded = load_checkpoint(half, UpdateNetwork)
    assert loaded.meta["weights"] == "float16" and half.stat().st_size < 0.6 * full.stat().st_size
    weight = loaded.networks[0].head[0].weight
    assert weight.dtype == torch.float32 and torch.allclose(weight, network.head[0].weight, atol=1e-3)
