import pytest

from engine.learn.checkpoint import CheckpointError, check_fits, load_checkpoint, save_checkpoint
from engine.learn.network import NetworkConfig, UpdateNetwork


def test_round_trip(tmp_path):
    network = UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, [network, network], {"problem": "pose6d", "steps": 2})
    loaded = load_checkpoint(path)
    assert loaded.steps == 2 and len(loaded.networks) == 2 and not loaded.networks[0].training
    assert loaded.network_for_step(7) is loaded.networks[1]
    check_fits(loaded, str(path), "pose6d", 32, True)


@pytest.mark.parametrize("problem, size, feedback, message", [
    ("ik", 32, True, "trained for problem"), ("pose6d", 64, True, "32 px"), ("pose6d", 32, False, "feedback checkpoint"),
])
def test_checkpoint_that_does_not_fit(tmp_path, problem, size, feedback, message):
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, [UpdateNetwork(NetworkConfig(image_size=32, width=4, hidden=8))], {"problem": "pose6d", "steps": 1})
    with pytest.raises(CheckpointError, match=message):
        check_fits(load_checkpoint(path), str(path), problem, size, feedback)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "none.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="bad.safetensors: not a safetensors checkpoint"):
        load_checkpoint(tmp_path / "bad.safetensors")


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
