import pytest
import torch

from engine.learn.checkpoint import Checkpoint
from engine.problems.jpeg import codec
from engine.problems.jpeg.network import Restorer, RestorerConfig
from engine.problems.jpeg.restore import apply_in_tiles, restore_steps

from .conftest import textured_image


def checkpoint(feedback: bool, steps: int) -> Checkpoint:
    torch.manual_seed(0)
    networks = [Restorer(RestorerConfig(feedback=feedback, depth=4, width=4)).eval() for _ in range(steps)]
    return Checkpoint(networks, {"steps": steps})


@pytest.mark.parametrize("feedback, steps", [(False, 1), (True, 3)])
def test_tiles_agree_with_the_whole_image(feedback, steps):
    observed = codec.roundtrip_batch(torch.from_numpy(textured_image(70, 90))[None, None], 10)
    whole = restore_steps(checkpoint(feedback, steps), observed, 10, tile=1000)
    tiled = restore_steps(checkpoint(feedback, steps), observed, 10, tile=24)
    assert len(whole) == steps and whole[-1].shape == observed.shape
    for a, b in zip(whole, tiled):
        assert torch.allclose(a, b, atol=1e-5)


def test_apply_in_tiles_covers_every_pixel():
    images = torch.rand(1, 1, 50, 37)
    out = apply_in_tiles(lambda x: x * 2, [images], margin=0, tile=16)
    assert torch.equal(out, images * 2)


def test_steps_can_be_fewer_than_trained():
    observed = codec.roundtrip_batch(torch.from_numpy(textured_image(32, 32))[None, None], 20)
    assert len(restore_steps(checkpoint(True, 3), observed, 20, steps=2)) == 2


@pytest.mark.parametrize("name", ["feedback", "dncnn"])
def test_the_shipped_checkpoints_restore_a_jpeg(name):
    from engine.learn.checkpoint import load_checkpoint
    from engine.learn.solver import shipped_checkpoint
    from engine.problems.jpeg.quality_metrics import psnr

    shipped = load_checkpoint(shipped_checkpoint("jpeg", f"{name}-q10"), Restorer)
    assert shipped.meta["qualities"] == [10] and shipped.meta["training_set"]["folder"] == "Train400"
    clean = torch.from_numpy(codec.to_uint8(textured_image(96, 96, seed=5)).astype("float32") / 255)[None, None]
    observed = codec.roundtrip_batch(clean, 10)
    restored = restore_steps(shipped, observed, 10)[-1]
    assert psnr(restored, clean) > psnr(observed, clean) + 0.1  # an untrained network: -1.1 dB
