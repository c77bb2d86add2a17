import pytest
import torch

from engine.learn import train as training
from engine.learn.checkpoint import CheckpointError, load_checkpoint
from engine.learn.epoch_state import EPOCH_STATE
from engine.learn.train import PARTIAL
from engine.problems.pose6d import training as pose6d_training
from engine.problems.pose6d.network import UpdateNetwork

from ..conftest import train_tiny


def test_checkpoint_records_the_run(tiny_checkpoint):
    checkpoint = load_checkpoint(tiny_checkpoint, UpdateNetwork)
    meta = checkpoint.meta
    assert len(checkpoint.networks) == 2 and checkpoint.steps == 2
    assert meta["problem"] == "pose6d" and meta["image_size"] == 64 and meta["solver"] == "feedback"
    assert meta["training_set"] == {"meshes": "tiny"} and len(meta["validation"]) == 2
    assert {"rotation_error_mean", "outlier_percent"} <= set(meta["validation"][0]) and meta["commit"]
    assert not (checkpoint.networks[0].update_scale == 1).all()


def test_deterministic_and_resumable(tmp_path, monkeypatch):
    reference = load_checkpoint(train_tiny(tmp_path / "reference"), UpdateNetwork)

    class SimulatedCrash(Exception):
        pass

    calls, crash = [], [True]
    original_fit = training._fit

    def crash_in_second_stage(task, network, data, stage, *args):
        calls.append(stage)
        if stage == 1 and crash[0]:
            raise SimulatedCrash
        return original_fit(task, network, data, stage, *args)

    monkeypatch.setattr(training, "_fit", crash_in_second_stage)
    with pytest.raises(SimulatedCrash):
        train_tiny(tmp_path / "resumed")
    assert (tmp_path / "resumed" / PARTIAL).exists()
    calls.clear()
    crash[0] = False
    resumed = load_checkpoint(train_tiny(tmp_path / "resumed"), UpdateNetwork)
    assert calls == [1]  # stage 0 came from the partial checkpoint
    assert not (tmp_path / "resumed" / PARTIAL).exists()
    for a, b in zip(reference.networks, resumed.networks):
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(p, q), name


def test_resume_with_other_settings_is_refused(tmp_path, monkeypatch):
    def crash_in_second_stage(task, network, data, stage, *args):
        if stage == 1:
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(training, "_fit", crash_in_second_stage)
    with pytest.raises(RuntimeError, match="simulated"):
        train_tiny(tmp_path)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="other settings"):
        train_tiny(tmp_path, epochs=2)


def test_shared_network_is_one(tmp_path):
    checkpoint = load_checkpoint(train_tiny(tmp_path, shared=True), UpdateNetwork)
    assert len(checkpoint.networks) == 1 and checkpoint.steps == 2 and checkpoint.meta["solver"] == "feedback-shared"


def test_a_last_batch_of_one_sample_is_not_trained_on(tmp_path):
    """Batch norm cannot normalise one sample (at 32 px the features are 1 x 1): 17 samples in batches of 16."""
    path = train_tiny(tmp_path, steps=1, samples=17, image_size=32)
    assert load_checkpoint(path, UpdateNetwork).steps == 1


def test_too_few_samples_per_process_are_refused_before_rendering(tmp_path):
    with pytest.raises(ValueError, match="--samples must be a whole number from 2 to"):
        train_tiny(tmp_path, samples=1)


@pytest.fixture
def busy(tmp_path):
    """tmp_path locked as a training run into it locks it (an flock on its .lock)."""
    import fcntl

    with open(tmp_path / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield tmp_path


def test_a_second_run_into_a_busy_directory_fails_at_once(busy, monkeypatch):
    from engine.outputs import OutputError

    monkeypatch.setattr(pose6d_training, "make_pose_dataset", lambda *args, **kwargs: pytest.fail("started rendering"))
    with pytest.raises(OutputError, match="another feedbacklab process is writing to this directory"):
        train_tiny(busy)
    assert sorted(path.name for path in busy.iterdir()) == [".lock"]


def test_the_directory_is_free_again_after_a_run(tmp_path):
    import fcntl

    train_tiny(tmp_path, steps=1)
    with open(tmp_path / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_the_final_checkpoint_is_float16(tiny_checkpoint):
    assert load_checkpoint(tiny_checkpoint, UpdateNetwork).meta["weights"] == "float16"


class SimulatedCrash(Exception):
    pass


@pytest.mark.parametrize("stage", [0, 1])
def test_a_stage_resumes_after_its_last_finished_epoch(tmp_path, monkeypatch, stage):
    reference = load_checkpoint(train_tiny(tmp_path / "reference", epochs=2), UpdateNetwork)
    original_save = training.save_epoch_state

    def crash_after_one_epoch(path, settings, saved_stage, epochs_done, *args):
        original_save(path, settings, saved_stage, epochs_done, *args)
        if (saved_stage, epochs_done) == (stage, 1):
            raise SimulatedCrash

    monkeypatch.setattr(training, "save_epoch_state", crash_after_one_epoch)
    with pytest.raises(SimulatedCrash):
        train_tiny(tmp_path / "resumed", epochs=2)
    assert (tmp_path / "resumed" / EPOCH_STATE).exists()
    monkeypatch.undo()
    messages = []
    resumed = load_checkpoint(train_tiny(tmp_path / "resumed", messages.append, epochs=2), UpdateNetwork)
    assert f"stage {stage + 1}/2: resumed after epoch 1/2" in " ".join(messages)
    assert not (tmp_path / "resumed" / EPOCH_STATE).exists()
    for a, b in zip(reference.networks, resumed.networks):
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(p, q), name


def _crash_after_first_epoch(monkeypatch):
    original_save = training.save_epoch_state

    def crash(*args):
        original_save(*args)
        raise SimulatedCrash

    monkeypatch.setattr(training, "save_epoch_state", crash)


def test_an_epoch_state_of_other_settings_is_refused(tmp_path, monkeypatch):
    _crash_after_first_epoch(monkeypatch)
    with pytest.raises(SimulatedCrash):
        train_tiny(tmp_path, epochs=2)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=f"{EPOCH_STATE}: left by a training run with other settings"):
        train_tiny(tmp_path, epochs=3)


def test_a_broken_epoch_state_is_refused_in_one_line(tmp_path):
    (tmp_path / EPOCH_STATE).write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="not a readable epoch state.*delete the file") as error:
        train_tiny(tmp_path)
    assert "\n" not in str(error.value)
