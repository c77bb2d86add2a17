"""engine.record: frame selection, frames and the GIF/MP4 writers, on a synthetic Comparison (no rendering), and
the pictures a problem renders itself, on a small solved pose6d batch."""
from __future__ import annotations

import logging

import imageio.v2 as iio2
import imageio.v3 as iio
import numpy as np
import pytest
import torch

from engine.compare import run_comparison
from engine.problems.registry import get_problem
from engine.record import ALWAYS_SHOWN, frame_positions, record_comparison, render_frame
from engine.solvers.base import Status
from engine.trace import Comparison, Trace

SIZE = 32
BATCH = 2


def _trace(solver: str, iterations: int, seed: int) -> Trace:
    rng = np.random.default_rng(seed)
    shape = (iterations, BATCH)
    status = np.full(shape, Status.RUNNING)
    status[-1] = Status.CONVERGED
    falling = np.linspace(1.0, 0.0, iterations)[:, None].repeat(BATCH, axis=1)
    return Trace(
        solver=solver, x=rng.normal(size=(*shape, 6)), energy=10.0 ** (-3 * (1 - falling)) + rng.random(shape) * 1e-3,
        update=rng.normal(size=(*shape, 6)), elapsed=np.arange(iterations) * 0.01,
        step_seconds=np.full(iterations, 0.01), computed=np.ones(shape, bool), status=status,
        metrics={"iou": 1 - falling, "rotation_error_deg": 30 * falling, "translation_error": 0.2 * falling},
        predictions=(rng.random((*shape, SIZE, SIZE)) > 0.6).astype(np.uint8) * 255,
    )


def _comparison(*solvers: tuple[str, int]) -> Comparison:
    rng = np.random.default_rng(0)
    return Comparison(
        problem="pose6d", observation=(rng.random((BATCH, SIZE, SIZE)) > 0.6).astype(np.float32),
        x0=np.zeros((BATCH, 6)), traces={name: _trace(name, length, seed) for seed, (name, length) in
                                         enumerate(solvers)},
        ground_truth=np.zeros((BATCH, 6)), parameter_names=("rx", "ry", "rz", "tx", "ty", "tz"),
    )


@pytest.fixture
def comparison() -> Comparison:
    return _comparison(("optimizer", 200), ("learned", 6))


def test_gif_frames_and_width(comparison, tmp_path):
    path = tmp_path / "run.gif"
    written = record_comparison(comparison, path, max_frames=20, scale=1)
    frames = iio.imread(path, index=None)
    assert written == 20 and frames.shape[0] == 20
    first = render_frame(comparison, 0, scale=1)
    assert frames.shape[1:] == first.shape
    assert np.abs(frames[0].astype(int) - first).mean() < 3  # only the palette's rounding

    single = _comparison(("optimizer", 200))
    record_comparison(single, tmp_path / "single.gif", max_frames=12, scale=1)
    assert 2 * iio.imread(tmp_path / "single.gif", index=0).shape[1] == frames.shape[2]


def test_mp4_padded_to_macro_blocks_without_resizing(comparison, tmp_path, caplog):
    path = tmp_path / "run.mp4"
    with caplog.at_level(logging.WARNING):
        written = record_comparison(comparison, path, max_frames=12, fps=5)
    assert written == 12 and path.stat().st_size > 0
    assert not [record for record in caplog.records if "macro_block_size" in record.getMessage()]
    with iio2.get_reader(path, "ffmpeg") as reader:
        height, width = reader.get_data(0).shape[:2]
    assert height % 16 == 0 and width % 16 == 0
    frame = render_frame(comparison, 0)
    assert 0 <= height - frame.shape[0] < 16 and 0 <= width - frame.shape[1] < 16


@pytest.mark.parametrize("length", [1, 5, 10, 11, 12, 60, 121, 200, 1000])
@pytest.mark.parametrize("max_frames", [11, 12, 60, 120])
def test_frame_positions(length, max_frames):
    positions = frame_positions(length, max_frames)
    assert len(positions) == min(length, max_frames)
    assert positions[0] == 0 and positions[-1] == length - 1
    assert np.all(np.diff(positions) > 0)
    assert set(range(min(length, ALWAYS_SHOWN))) <= set(positions.tolist())


def test_frame_positions_too_few_frames():
    assert frame_positions(8, 8).tolist() == list(range(8))
    with pytest.raises(ValueError, match="at least 11"):
        frame_positions(200, 10)


def test_finished_solver_holds_its_last_frame(comparison):
    last = comparison.traces["learned"].num_iterations - 1
    at_end, later = render_frame(comparison, last), render_frame(comparison, 150)
    column = at_end.shape[1] // 2  # 'learned' is the second of two equal columns
    assert np.array_equal(at_end[:, column:], later[:, column:])
    assert not np.array_equal(at_end[:, :column], later[:, :column])
    assert not np.array_equal(render_frame(comparison, last - 1)[:, column:], at_end[:, column:])


def test_render_frame_picture(comparison):
    frame = render_frame(comparison, 3, item=1, scale=3)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.shape[1] == 2 * render_frame(_comparison(("learned", 6)), 3, item=1, scale=3).shape[1]
    with pytest.raises(ValueError, match="item 2"):
        render_frame(comparison, 0, item=2)


def test_bad_extension(comparison, tmp_path):
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        record_comparison(comparison, tmp_path / "run.avi")


def test_missing_directory(comparison, tmp_path):
    path = tmp_path / "missing" / "run.gif"
    with pytest.raises(ValueError, match="missing"):
        record_comparison(comparison, path)
    assert not path.parent.exists()


def test_trace_without_predictions(comparison, tmp_path):
    comparison.traces["learned"].predictions = None
    with pytest.raises(ValueError, match="'learned' was saved without predictions"):
        record_comparison(comparison, tmp_path / "run.gif")
    with pytest.raises(ValueError, match="without predictions"):
        render_frame(comparison, 0)
    assert not (tmp_path / "run.gif").exists()


def test_progress_reports_every_frame(comparison, tmp_path):
    calls: list[tuple[int, int]] = []
    written = record_comparison(comparison, tmp_path / "run.gif", max_frames=15, scale=1,
                                progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, written) for done in range(1, written + 1)]


def test_a_failed_recording_keeps_the_gif_that_was_there(comparison, tmp_path, full_disk):
    from PIL import Image

    path = tmp_path / "run.gif"
    full_disk(path, lambda: record_comparison(comparison, path, max_frames=12, scale=1), Image.Image, "save")


@pytest.fixture(scope="module")
def solved_pose6d() -> tuple[Comparison, object]:
    """Two pose6d problems at 32 px, nmr for two iterations, and the batch they were solved on."""
    spec = get_problem("pose6d")
    problem = spec.make(spec.config(image_size=32), {}, "cpu", 2)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(0))
    comparison = run_comparison(spec, problem, problem.forward(truth), ["nmr"], ground_truth=truth,
                                solver_options={"max_iterations": 2})
    return comparison, problem


def estimate_coloured(frame: np.ndarray) -> int:
    """Pixels in the 3D view's shaded estimate colour (brighter than the overlay panel's translucent estimate; the
    energy curve and the legend's red have it too)."""
    return int(((frame[..., 0] > 200) & (frame[..., 2] < 100)).sum())


def test_the_problems_rendered_panels_follow_its_panels(solved_pose6d, tmp_path):
    comparison, problem = solved_pose6d
    plain = render_frame(comparison, 1, item=1)
    viewed = render_frame(comparison, 1, item=1, problem=problem)
    assert viewed.shape[1] == plain.shape[1] and viewed.shape[0] > plain.shape[0] + 100
    half = plain.shape[0] // 2
    assert np.array_equal(viewed[:half], plain[:half])  # the panels above are as they were
    assert estimate_coloured(viewed) > estimate_coloured(plain) + 200
    written = record_comparison(comparison, tmp_path / "view.gif", item=1, max_frames=12, problem=problem)
    frames = iio.imread(tmp_path / "view.gif", index=None)
    assert frames.shape[0] == written and frames.shape[1:] == viewed.shape
    assert estimate_coloured(frames[-1]) > estimate_coloured(plain) + 200


def test_a_problem_of_another_batch_is_refused(solved_pose6d, tmp_path):
    comparison, problem = solved_pose6d
    with pytest.raises(ValueError, match="problem given for the rendered pictures is a batch of 1, the comparison's "
                                         "of 2"):
        render_frame(comparison, 0, problem=problem.subset(torch.tensor([0])))
    with pytest.raises(ValueError, match="batch of 1"):
        record_comparison(comparison, tmp_path / "run.gif", problem=problem.subset(torch.tensor([0])))
    assert not (tmp_path / "run.gif").exists()
