"""Side-by-side animations of a Comparison: one column per solver, written as a GIF (Pillow) or an MP4 (ffmpeg).

render_frame draws one timeline position from the traces alone (numpy and Pillow, no state), so the GUI can
reuse it; record_comparison picks which positions to show and streams the frames to the writer.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .solvers.base import Status
from .trace import Comparison, Trace
from .visuals import DIFFERENCE_COLOURS, DIFFERENCE_LEGEND, OVERLAY_COLOURS, PANELS, panel_images

FORMATS = (".gif", ".mp4")
ALWAYS_SHOWN = 10
"""Timeline positions below this are always recorded: learned solvers finish in a handful of steps."""
MP4_QUALITY = 4
"""imageio-ffmpeg's 0-10 scale; 4 is libx264 crf 30, plenty for flat images and text."""
MACRO_BLOCK = 16
"""ffmpeg encodes in 16x16 blocks; frames are padded to it so that imageio-ffmpeg does not resize them."""

PAD = 6
MIN_COLUMN = 150
"""Narrowest column (without padding), so that the text fits beside small images."""
TITLE_SIZE = 13
TEXT_SIZE = 11
LINE = TEXT_SIZE + 4
PLOT_HEIGHT = 64
METRICS = (
    ("rotation_error_deg", "rotation error {:.2f}°"),
    ("translation_error", "translation error {:.4f}"),
    ("iou", "IoU {:.3f}"),
)

BACKGROUND = (30, 30, 34)
FRAME = (90, 90, 98)
TEXT = (232, 232, 232)
WHITE = (255, 255, 255)
DIM = (150, 150, 158)
DONE = (70, 190, 110)
FAILED = (220, 70, 70)
CURVE = (250, 196, 60)
LEGEND_TITLE = "difference: "


@dataclass(frozen=True)
class _Layout:
    """Where everything goes; the same in every column, x offsets relative to the column."""

    names: tuple[str, ...]
    """Solver names, one column each."""
    metric_names: tuple[str, ...]
    column_width: int
    width: int
    height: int
    image_x: int
    image_size: tuple[int, int]
    """(width, height) of a scaled image."""
    iteration_y: int
    image_ys: tuple[int, int, int]
    """Top of the observation, estimate and difference images; each has its caption one line above."""
    plot_y: int
    metrics_y: int
    legend_lines: tuple[tuple[tuple[str, int], ...], ...]
    legend_y: int


@functools.lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=16)
def _layout(
    names: tuple[str, ...], metric_names: tuple[str, ...], image_shape: tuple[int, int], scale: int
) -> _Layout:
    image_size = (image_shape[1] * scale, image_shape[0] * scale)
    inner = max(image_size[0], MIN_COLUMN)
    column_width = inner + 2 * PAD
    iteration_y = PAD + TITLE_SIZE + 4
    y = iteration_y + LINE + PAD
    image_ys = []
    for _ in range(3):
        image_ys.append(y + LINE)
        y += LINE + image_size[1] + PAD
    plot_y = y + LINE
    metrics_y = plot_y + PLOT_HEIGHT + PAD
    legend_y = metrics_y + LINE * len(metric_names) + PAD
    width = column_width * len(names)
    legend_lines = _wrap_legend(width - 2 * PAD)
    return _Layout(names=names, metric_names=metric_names, column_width=column_width, width=width,
                   height=legend_y + LINE * len(legend_lines) + PAD, image_x=PAD + (inner - image_size[0]) // 2,
                   image_size=image_size, iteration_y=iteration_y, image_ys=tuple(image_ys), plot_y=plot_y,
                   metrics_y=metrics_y, legend_lines=legend_lines, legend_y=legend_y)


def _layout_of(comparison: Comparison, scale: int) -> _Layout:
    metric_names = tuple(
        name for name, _ in METRICS if any(name in trace.metrics for trace in comparison.traces.values())
    )
    image_shape = comparison.observation.shape[1:]
    return _layout(tuple(comparison.traces), metric_names, (int(image_shape[0]), int(image_shape[1])), scale)


def _legend_entry_width(label: str) -> int:
    return LINE + round(_font(TEXT_SIZE).getlength(label)) + 2 * PAD


def _wrap_legend(width: int) -> tuple[tuple[tuple[str, int], ...], ...]:
    """The legend's entries, greedily wrapped onto as many lines as the frame's width needs (the first line
    starts after the title, and may hold nothing else)."""
    lines: list[list[tuple[str, int]]] = [[]]
    used = round(_font(TEXT_SIZE).getlength(LEGEND_TITLE))
    for entry in DIFFERENCE_LEGEND:
        entry_width = _legend_entry_width(entry[0])
        if used > 0 and used + entry_width > width:
            lines.append([])
            used = 0
        lines[-1].append(entry)
        used += entry_width
    return tuple(tuple(line) for line in lines)


def _fit(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """text, cut short with an ellipsis when it is wider than width pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


@functools.lru_cache(maxsize=4)
def _background(layout: _Layout) -> Image.Image:
    """Everything that does not change with t: solver names, captions, frames, the legend."""
    picture = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(picture)
    title, text = _font(TITLE_SIZE), _font(TEXT_SIZE)
    image_width, image_height = layout.image_size
    for column, name in enumerate(layout.names):
        left = column * layout.column_width
        if column > 0:
            draw.line([(left, 0), (left, layout.legend_y - PAD)], fill=FRAME)
        draw.text((left + PAD, PAD), _fit(name, title, layout.column_width - 2 * PAD), font=title, fill=TEXT)
        x = left + layout.image_x
        for y, caption in zip(layout.image_ys, PANELS):
            draw.text((left + PAD, y - LINE), caption, font=text, fill=DIM)
            draw.rectangle([x - 1, y - 1, x + image_width, y + image_height], outline=FRAME)
        draw.rectangle(_plot_box(layout, left), outline=FRAME)

    draw.line([(0, layout.legend_y - PAD // 2), (layout.width, layout.legend_y - PAD // 2)], fill=FRAME)
    x, y = PAD, layout.legend_y
    draw.text((x, y), LEGEND_TITLE, font=text, fill=DIM)
    x += round(text.getlength(LEGEND_TITLE))
    swatch = TEXT_SIZE - 2
    for line in layout.legend_lines:
        for label, index in line:
            draw.rectangle([x, y + 3, x + swatch, y + 3 + swatch], fill=tuple(DIFFERENCE_COLOURS[index].tolist()),
                           outline=FRAME)
            draw.text((x + LINE, y), label, font=text, fill=DIM)
            x += _legend_entry_width(label)
        x, y = PAD, y + LINE
    return picture


def _plot_box(layout: _Layout, left: int) -> tuple[int, int, int, int]:
    return (left + PAD, layout.plot_y, left + layout.column_width - PAD, layout.plot_y + PLOT_HEIGHT)


def _check(comparison: Comparison, item: int, scale: int) -> None:
    if not comparison.traces:
        raise ValueError("the comparison holds no traces")
    batch = comparison.observation.shape[0]
    if not 0 <= item < batch:
        raise ValueError(f"item {item} is out of range for a batch of {batch}")
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    for name, trace in comparison.traces.items():
        if trace.renderings is None:
            raise ValueError(
                f"trace {name!r} was saved without renderings; solve again keeping renderings to record it"
            )


def _energy_range(comparison: Comparison, item: int) -> tuple[float, float]:
    """log10 bounds of the y axis shared by every column: all energies each solver computed for the item."""
    values = np.concatenate(
        [trace.energy[: trace.last_index()[item] + 1, item] for trace in comparison.traces.values()]
    )
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return 0.0, 1.0
    low, high = math.log10(positive.min()), math.log10(positive.max())
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    margin = 0.05 * (high - low)
    return low - margin, high + margin


def render_frame(comparison: Comparison, t: int, item: int = 0, scale: int = 2) -> np.ndarray:
    """(H, W, 3) uint8 picture of timeline position t for one item of the batch: a column per solver."""
    _check(comparison, item, scale)
    if t < 0:
        raise ValueError(f"timeline position must be >= 0, got {t}")
    layout = _layout_of(comparison, scale)
    picture = _background(layout).copy()
    draw = ImageDraw.Draw(picture)
    observation = comparison.observation[item]
    log_range = _energy_range(comparison, item)
    for column, trace in enumerate(comparison.traces.values()):
        left = column * layout.column_width
        k = int(trace.at(t)[item])
        for y, image in zip(layout.image_ys, panel_images(observation, trace.renderings[k, item])):
            picture.paste(_scaled(image, layout), (left + layout.image_x, y))
        _draw_state(draw, layout, left, trace, t, item, log_range)
    return np.array(picture)


def _scaled(image: np.ndarray, layout: _Layout) -> Image.Image:
    return Image.fromarray(image).resize(layout.image_size, Image.Resampling.NEAREST)


def _draw_state(
    draw: ImageDraw.ImageDraw, layout: _Layout, left: int, trace: Trace, t: int, item: int,
    log_range: tuple[float, float],
) -> None:
    """One column's text and energy curve at timeline position t."""
    text = _font(TEXT_SIZE)
    last = int(trace.last_index()[item])
    k = int(trace.at(t)[item])
    draw.text((left + PAD, layout.iteration_y), f"iteration {k} / {last}", font=text, fill=TEXT)
    if t >= last:
        failed = trace.status[last, item] == Status.FAILED
        label = "failed" if failed else "done"
        badge_width = round(text.getlength(label)) + 8
        x = left + layout.column_width - PAD - badge_width
        draw.rounded_rectangle([x, layout.iteration_y - 1, x + badge_width, layout.iteration_y + LINE - 2], radius=4,
                               fill=FAILED if failed else DONE)
        draw.text((x + 4, layout.iteration_y), label, font=text, fill=WHITE)

    draw.text((left + PAD, layout.plot_y - LINE), f"energy {trace.energy[k, item]:.3e}", font=text, fill=TEXT)
    _draw_plot(draw, _plot_box(layout, left), trace.energy[: k + 1, item], last, log_range)
    for row, name in enumerate(layout.metric_names):
        if name in trace.metrics:
            label = dict(METRICS)[name].format(trace.metrics[name][k, item])
            draw.text((left + PAD, layout.metrics_y + row * LINE), label, font=text, fill=TEXT)


def _draw_plot(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], energy: np.ndarray, last: int,
    log_range: tuple[float, float],
) -> None:
    """Energies 0..k on the shared log y axis over the solver's own iterations 0..last. The axis bounds go in
    the top-right and bottom-left corners, which a falling energy curve leaves free."""
    x0, y0, x1, y1 = box
    low, high = log_range
    small = _font(TEXT_SIZE - 2)
    draw.text((x1 - 2, y0 + 2), f"{10 ** high:.0e}", font=small, fill=DIM, anchor="ra")
    draw.text((x0 + 3, y1 - 2), f"{10 ** low:.0e}", font=small, fill=DIM, anchor="ld")
    iterations = np.arange(energy.shape[0])
    finite = np.isfinite(energy)
    logs = np.log10(np.maximum(energy[finite], 10.0**low))
    xs = x0 + 2 + iterations[finite] / max(last, 1) * (x1 - x0 - 4)
    ys = y1 - 2 - (np.clip(logs, low, high) - low) / (high - low) * (y1 - y0 - 4)
    points = list(zip(xs.tolist(), ys.tolist()))
    if len(points) > 1:
        draw.line(points, fill=CURVE)
    if points:
        px, py = points[-1]
        draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=CURVE)


def frame_positions(num_positions: int, max_frames: int) -> np.ndarray:
    """Increasing, unique timeline positions to record out of 0..num_positions-1: all of them when they fit
    in max_frames, otherwise every position below ALWAYS_SHOWN, the last one, and the rest spread evenly."""
    if num_positions <= max_frames:
        return np.arange(num_positions)
    if max_frames < ALWAYS_SHOWN + 1:
        raise ValueError(
            f"max_frames must be at least {ALWAYS_SHOWN + 1} for a timeline of {num_positions} positions: "
            f"the first {ALWAYS_SHOWN} and the last are always recorded"
        )
    # max_frames - ALWAYS_SHOWN points ending at the last position, at least 1 apart since the timeline is longer
    # than max_frames; floor(x + 0.5), unlike np.round's half-to-even, keeps such points distinct.
    count = max_frames - ALWAYS_SHOWN
    spread = np.linspace(ALWAYS_SHOWN - 1, num_positions - 1, count + 1)[1:]
    return np.concatenate([np.arange(ALWAYS_SHOWN), np.floor(spread + 0.5).astype(int)])


def record_comparison(
    comparison: Comparison,
    path: str | os.PathLike,
    item: int = 0,
    fps: int = 10,
    max_frames: int = 120,
    scale: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Writes the animation of one item to path (.gif or .mp4) and returns the number of frames written.

    The timeline runs until the last solver stopped on this item (at most comparison.num_iterations), so that
    the animation does not end in a run of identical frames."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        kind = suffix or "a file without extension"
        raise ValueError(f"{path}: cannot record {kind}; supported: {', '.join(FORMATS)}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"{path}: directory {directory} does not exist")
    if fps < 1:
        raise ValueError(f"fps must be a positive integer, got {fps}")
    _check(comparison, item, scale)
    timeline = max(int(trace.last_index()[item]) for trace in comparison.traces.values()) + 1
    positions = frame_positions(timeline, max_frames)
    layout = _layout_of(comparison, scale)
    opener = _gif_writer if suffix == ".gif" else _mp4_writer
    with opener(path, fps, (layout.height, layout.width)) as write:
        for done, t in enumerate(positions, start=1):
            write(render_frame(comparison, int(t), item, scale))
            if progress is not None:
                progress(done, len(positions))
    return len(positions)


@functools.lru_cache(maxsize=None)
def _gif_palette() -> Image.Image:
    """A fixed palette of every colour render_frame draws: greys for the silhouettes, the colours themselves and
    the blends that text antialiasing makes. Quantizing to it is many times faster than Pillow's adaptive
    palette per frame, and colours cannot flicker between frames."""
    ramps = [np.linspace(0, 255, 176)[:, None].repeat(3, axis=1)]
    for start, end in ((BACKGROUND, TEXT), (BACKGROUND, DIM), (DONE, WHITE), (FAILED, WHITE)):
        ramps.append(np.linspace(start, end, 16))
    ramps.append(np.array([BACKGROUND, FRAME, CURVE, *DIFFERENCE_COLOURS[1:3], *OVERLAY_COLOURS[1:]]))
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.concatenate(ramps).round().astype(np.uint8).tobytes())
    return palette


@contextlib.contextmanager
def _gif_writer(path: str, fps: int, size: tuple[int, int]) -> Iterator[Callable[[np.ndarray], None]]:
    """Pillow writes a GIF in one go, so the frames wait, quantized, until the last one is in."""
    frames: list[Image.Image] = []
    yield lambda frame: frames.append(
        Image.fromarray(frame).quantize(palette=_gif_palette(), dither=Image.Dither.NONE)
    )
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=1000 / fps, loop=0)


@contextlib.contextmanager
def _mp4_writer(path: str, fps: int, size: tuple[int, int]) -> Iterator[Callable[[np.ndarray], None]]:
    height, width = (-(-side // MACRO_BLOCK) * MACRO_BLOCK for side in size)
    padded = np.empty((height, width, 3), dtype=np.uint8)
    padded[:] = BACKGROUND
    writer = imageio_ffmpeg.write_frames(path, (width, height), fps=fps, quality=MP4_QUALITY,
                                         macro_block_size=MACRO_BLOCK, ffmpeg_log_level="error")
    writer.send(None)

    def write(frame: np.ndarray) -> None:
        padded[: size[0], : size[1]] = frame
        writer.send(padded)

    try:
        yield write
    finally:
        writer.close()
