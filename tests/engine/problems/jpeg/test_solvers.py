"""The jpeg problem's solvers on the iteration interface: the JPEG itself, TV, DIP and the shipped restorers."""
import pytest
import torch

from engine.problems.jpeg import SPEC
from engine.problems.jpeg.images import LoadedImage
from engine.problems.jpeg.problem import JpegConfig, make_problem
from engine.problems.jpeg.solvers import JpegRestorerSolver, shipped_restorer
from engine.learn.solver import LearnedSolverParams
from engine.solvers.base import Status

from .conftest import textured_image


def solve(name: str, problem, **options):
    truth = problem.sample_ground_truth(torch.Generator())
    observation = problem.forward(truth)
    records = list(SPEC.make_solver(name, **options).iterate(problem, observation, problem.initial_estimate(), truth))
    return records, observation


def scene_problem(device="cpu", batch=2, **config):
    return make_problem(JpegConfig(**{"scene_size": 64, **config}), None, device, batch)


def test_the_jpeg_baseline_is_the_observation(device):
    records, observation = solve("jpeg", scene_problem(device))
    assert len(records) == 2
    torch.testing.assert_close(records[-1].x, observation.flatten(1))
    assert torch.allclose(records[-1].metrics["psnr_gain"], torch.zeros(2, device=device))


def test_tv_stays_in_the_quantisation_set_and_gains_over_the_jpeg(device):
    records, observation = solve("tv", scene_problem(device), max_iterations=30)
    assert len(records) == 31 and all(r.x.shape == (2, 64 * 64) for r in records)
    assert torch.all(records[-1].metrics["psnr_gain"] > 0.2)
    assert torch.all(records[-1].info["total_variation"] < records[1].info["total_variation"])


def test_tv_refuses_colour_in_one_line():
    with pytest.raises(ValueError, match="tv solver restores grey JPEGs; set --colour false"):
        solve("tv", scene_problem(batch=1, colour=True), max_iterations=2)


def test_dip_records_every_block_of_adam_steps_and_is_repeatable():
    problem = scene_problem(batch=2, scene_size=32)
    first, _ = solve("dip", problem, max_iterations=2, adam_steps=3, levels=2, width=8)
    again, _ = solve("dip", problem, max_iterations=2, adam_steps=3, levels=2, width=8)
    assert len(first) == 3 and first[-1].status.eq(Status.MAX_ITERATIONS).all()
    assert not torch.equal(first[1].x, first[0].x)
    torch.testing.assert_close(first[-1].x, again[-1].x)
    assert first[-1].x.min() >= 0 and first[-1].x.max() <= 1


def test_dip_refuses_images_too_small_for_its_levels():
    with pytest.raises(ValueError, match="needs at least 64 x 64 pixels"):
        solve("dip", scene_problem(batch=1, scene_size=32), max_iterations=1, levels=6)


@pytest.mark.parametrize("name, steps", [("dncnn", 1), ("feedback", 3)])
def test_the_shipped_restorers_gain_over_the_jpeg_step_by_step(device, name, steps):
    records, _ = solve(name, scene_problem(device, scene_size=96))
    assert len(records) == steps + 1
    gains = torch.stack([r.metrics["psnr_gain"] for r in records])
    assert torch.all(gains[-1] > 0.3), gains


def test_a_grey_restorer_restores_colour_channel_by_channel():
    image = LoadedImage(textured_image(64, 64, colour=True), None, "c.png")
    problem = make_problem(JpegConfig(colour=True), image, batch_size=1)
    records, _ = solve("feedback", problem)
    assert records[-1].x.shape == (1, 3 * 64 * 64)
    assert float(records[-1].metrics["psnr_gain"][0]) > 0


def test_each_quality_reads_its_own_shipped_checkpoint_or_says_which_to_train(tmp_path, monkeypatch):
    assert shipped_restorer("feedback", 10).endswith("jpeg-feedback-q10.safetensors")
    monkeypatch.setattr("engine.problems.jpeg.solvers.ASSETS", str(tmp_path))  # nothing shipped, not even blind
    with pytest.raises(ValueError, match="no dncnn checkpoint ships for JPEG quality 77.*--quality 77"):
        shipped_restorer("dncnn", 77)
    monkeypatch.undo()
    given = JpegRestorerSolver(LearnedSolverParams(kind="dncnn", checkpoint=shipped_restorer("dncnn", 10)))
    assert given.for_quality(40) is given.checkpoint  # the checkpoint given serves every quality


def test_a_checkpoint_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="dncnn"):
        JpegRestorerSolver(LearnedSolverParams(kind="feedback", checkpoint=shipped_restorer("dncnn", 10)))
