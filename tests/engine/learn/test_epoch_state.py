import pytest
import torch

from engine.learn.checkpoint import CheckpointError
from engine.learn.epoch_state import load_epoch_state, save_epoch_state

SETTINGS = {"train_config": {"epochs": 3}, "solver": "lf"}


def _training():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 10)
    return network, optimizer, schedule, torch.Generator().manual_seed(5)


def _step(network, optimizer, schedule, generator):
    loss = network(torch.randn(8, 3, generator=generator)).square().mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()


def test_a_restored_state_continues_exactly_as_the_saved_one(tmp_path):
    saved = _training()
    _step(*saved)
    save_epoch_state(str(tmp_path / "state"), SETTINGS, 0, 1, *saved)
    restored = _training()
    assert load_epoch_state(str(tmp_path / "state"), SETTINGS, 0, *restored) == 1
    _step(*saved)
    _step(*restored)
    for (name, a), b in zip(saved[0].state_dict().items(), restored[0].state_dict().values()):
        assert torch.equal(a, b), name
    assert saved[2].get_last_lr() == restored[2].get_last_lr()


def test_no_file_or_another_stage_restores_nothing(tmp_path):
    assert load_epoch_state(str(tmp_path / "missing"), SETTINGS, 0, *_training()) == 0
    save_epoch_state(str(tmp_path / "state"), SETTINGS, 0, 2, *_training())
    fresh = _training()
    before = [value.clone() for value in fresh[0].state_dict().values()]
    assert load_epoch_state(str(tmp_path / "state"), SETTINGS, 1, *fresh) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, fresh[0].state_dict().values()))


@pytest.mark.parametrize("content", [b"", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ", b"\xff" * 64])
def test_a_broken_file_is_one_line(tmp_path, content):
    path = tmp_path / "state"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="state: not a readable epoch state") as error:
        load_epoch_state(str(path), SETTINGS, 0, *_training())
    assert "\n" not in str(error.value)


def test_a_safetensors_file_of_something_else_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, str(tmp_path / "state"))
    with pytest.raises(CheckpointError, match="not a readable epoch state"):
        load_epoch_state(str(tmp_path / "state"), SETTINGS, 0, *_training())


def test_a_state_of_another_network_is_refused_in_one_line(tmp_path):
    other = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5))
    optimizer = torch.optim.Adam(other.parameters())
    save_epoch_state(str(tmp_path / "state"), SETTINGS, 0, 1, other, optimizer,
                     torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 10), torch.Generator())
    with pytest.raises(CheckpointError, match="does not fit this training run") as error:
        load_epoch_state(str(tmp_path / "state"), SETTINGS, 0, *_training())
    assert "\n" not in str(error.value)
