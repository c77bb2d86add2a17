"""Side-by-side animations of a Comparison: one column per solver, written as a GIF (Pillow) or an MP4 (ffmpeg).

render_frame draws one timeline position from the traces alone (numpy and Pillow, no state), so the GUI can
reuse it; record_comparison picks which positions to show and streams the frames to the writer. What a column
shows (its pictures, metric lines and legend) comes from the problem's spec; given the problem the traces were
solved on, the pictures the problem renders itself (spec.rendered_panels) follow, seen from its camera.
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
import torch
from PIL import Image, ImageDraw, ImageFont

from .outputs import atomic_path, check_output
from .problems.registry import get_problem
from .problems.spec import CAMERA_VIEW, Legend, Problem, ProblemSpec
from .solvers.base import Status
from .trace import Comparison, Trace

FORMATS = (".gif", ".mp4")
ALWAYS_SHOWN = 10
"""Timeline positions below this are always recorded: learned solvers finish in a handful of steps."""
FPS_LIMITS = (1, 50)
"""Frame rates a recording may have: GIF delays are whole hundredths of a second, and viewers slow down
those under two hundredths."""
MAX_FRAMES_LIMITS = (ALWAYS_SHOWN + 1, 1000)
"""Frames a recording may hold at most: room for the first ALWAYS_SHOWN positions and the last; a GIF keeps
all of its frames in memory until it is written."""
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
TARGET_IMAGE_WIDTH = 200
"""Pictures narrower than this are scaled up by a whole factor (pose6d's 128 px silhouettes to 256)."""
GIF_COLOURS = 255

BACKGROUND = (30, 30, 34)
FRAME = (90, 90, 98)
TEXT = (232, 232, 232)
WHITE = (255, 255, 255)
DIM = (150, 150, 158)
DONE = (70, 190, 110)
FAILED = (220, 70, 70)
CURVE = (250, 196, 60)


@dataclass(frozen=True)
class _Layout:
    """Where everything goes; the same in every column, x offsets relative to the column."""

    names: tuple[str, ...]
    """Solver names, one column each."""
    captions: tuple[str, ...]
    """The panels' titles."""
    text_lines: tuple[str, ...]
    """Metric keys, then 'info.' + solver information keys: one text line each."""
    column_width: int
    width: int
    height: int
    image_x: int
    image_size: tuple[int, int]
    """(width, height) of a scaled picture: the panels' pictures scaled, rendered pictures resized to it."""
    scale: int
    iteration_y: int
    image_ys: tuple[int, ...]
    """Top of each panel's picture; each has its caption one line above."""
    plot_y: int
    metrics_y: int
    legend: Legend | None
    legend_lines: tuple[tuple[tuple[str, tuple[int, int, int]], ...], ...]
    legend_y: int


@functools.lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=16)
def _layout(names: tuple[str, ...], captions: tuple[str, ...], text_lines: tuple[str, ...],
            picture_shape: tuple[int, int], scale: int, legend: Legend | None) -> _Layout:
    image_size = (picture_shape[1] * scale, picture_shape[0] * scale)
    inner = max(image_size[0], MIN_COLUMN)
    column_width = inner + 2 * PAD
    iteration_y = PAD + TITLE_SIZE + 4
    y = iteration_y + LINE + PAD
    image_ys = []
    for _ in captions:
        image_ys.append(y + LINE)
        y += LINE + image_size[1] + PAD
    plot_y = y + LINE
    metrics_y = plot_y + PLOT_HEIGHT + PAD
    legend_y = metrics_y + LINE * len(text_lines) + PAD
    width = column_width * len(names)
    legend_lines = _wrap_legend(legend, width - 2 * PAD)
    return _Layout(names=names, captions=captions, text_lines=text_lines, column_width=column_width, width=width,
                   height=legend_y + LINE * len(legend_lines) + PAD, image_x=PAD + (inner - image_size[0]) // 2,
                   image_size=image_size, scale=scale, iteration_y=iteration_y, image_ys=tuple(image_ys),
                   plot_y=plot_y, metrics_y=metrics_y, legend=legend, legend_lines=legend_lines, legend_y=legend_y)


def _layout_of(spec: ProblemSpec, comparison: Comparison, item: int, scale: int | None,
               scene: Problem | None) -> _Layout:
    traces = comparison.traces.values()
    text_lines = tuple(metric.key for metric in spec.metrics if any(metric.key in t.metrics for t in traces))
    text_lines += tuple(dict.fromkeys(f"info.{key}" for t in traces for key in t.info))
    first = next(iter(traces))
    picture = _pictures(spec, comparison, first, 0, item, None)[0]  # the panels' size sets the scale
    if scale is None:
        scale = max(1, TARGET_IMAGE_WIDTH // picture.shape[1])
    rendered = spec.rendered_panels if scene is not None else ()
    return _layout(tuple(comparison.traces), tuple(p.title for p in (*spec.panels, *rendered)), text_lines,
                   (int(picture.shape[0]), int(picture.shape[1])), scale, spec.legend)


def _pictures(spec: ProblemSpec, comparison: Comparison, trace: Trace, k: int, item: int,
              scene: Problem | None) -> list[np.ndarray]:
    """The spec's panels for one item at iteration k of a trace, then, given the item's problem (`scene`, a batch
    of one), its rendered panels from the camera."""
    truth = None if comparison.ground_truth is None else comparison.ground_truth[item]
    prediction = trace.prediction(k, item)
    pictures = [panel.picture(comparison.observation[item], prediction, trace.x[k, item], truth, comparison.config)
                for panel in spec.panels]
    if scene is not None:
        pictures += [panel.render(scene, trace.x[k, item], truth, CAMERA_VIEW) for panel in spec.rendered_panels]
    return pictures


def _legend_entry_width(label: str) -> int:
    return LINE + round(_font(TEXT_SIZE).getlength(label)) + 2 * PAD


def _wrap_legend(legend: Legend | None, width: int) -> tuple[tuple[tuple[str, tuple[int, int, int]], ...], ...]:
    """The legend's entries, greedily wrapped onto as many lines as the frame's width needs (the first line
    starts after the title, and may hold nothing else)."""
    if legend is None:
        return ()
    lines: list[list[tuple[str, tuple[int, int, int]]]] = [[]]
    used = round(_font(TEXT_SIZE).getlength(legend.title))
    for entry in legend.entries:
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
        for y, caption in zip(layout.image_ys, layout.captions):
            draw.text((left + PAD, y - LINE), caption, font=text, fill=DIM)
            draw.rectangle([x - 1, y - 1, x + image_width, y + image_height], outline=FRAME)
        draw.rectangle(_plot_box(layout, left), outline=FRAME)

    if layout.legend is None:
        return picture
    draw.line([(0, layout.legend_y - PAD // 2), (layout.width, layout.legend_y - PAD // 2)], fill=FRAME)
    x, y = PAD, layout.legend_y
    draw.text((x, y), layout.legend.title, font=text, fill=DIM)
    x += round(text.getlength(layout.legend.title))
    swatch = TEXT_SIZE - 2
    for line in layout.legend_lines:
        for label, colour in line:
            draw.rectangle([x, y + 3, x + swatch, y + 3 + swatch], fill=colour, outline=FRAME)
            draw.text((x + LINE, y), label, font=text, fill=DIM)
            x += _legend_entry_width(label)
        x, y = PAD, y + LINE
    return picture


def _plot_box(layout: _Layout, left: int) -> tuple[int, int, int, int]:
    return (left + PAD, layout.plot_y, left + layout.column_width - PAD, layout.plot_y + PLOT_HEIGHT)


def _check(comparison: Comparison, item: int, scale: int | None, problem: Problem | None) -> None:
    if not comparison.traces:
        raise ValueError("the comparison holds no traces")
    batch = comparison.observation.shape[0]
    if not 0 <= item < batch:
        raise ValueError(f"item {item} is out of range for a batch of {batch}")
    if problem is not None and problem.batch_size != batch:
        raise ValueError(f"the problem given for the rendered pictures is a batch of {problem.batch_size}, the "
                         f"comparison's of {batch}")
    if scale is not None and scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    for name, trace in comparison.traces.items():
        if trace.predictions is None:
            raise ValueError(
                f"trace {name!r} was saved without predictions; solve again keeping them to record it"
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


def render_frame(comparison: Comparison, t: int, item: int = 0, scale: int | None = None,
                 problem: Problem | None = None) -> np.ndarray:
    """(H, W, 3) uint8 picture of timeline position t for one item of the batch: a column per solver. scale:
    how much the problem's pictures are enlarged (default: small pictures to about TARGET_IMAGE_WIDTH); problem:
    the batch the traces were solved on, for its rendered panels (None: without them)."""
    _check(comparison, item, scale, problem)
    if t < 0:
        raise ValueError(f"timeline position must be >= 0, got {t}")
    spec = get_problem(comparison.problem)
    scene = _scene(problem, item)
    return _draw_frame(spec, comparison, _layout_of(spec, comparison, item, scale, scene),
                       _energy_range(comparison, item), t, item, scene)


def _scene(problem: Problem | None, item: int) -> Problem | None:
    """The item's problem, a batch of one, for the rendered panels."""
    return None if problem is None else problem.subset(torch.tensor([item]))


def _draw_frame(spec: ProblemSpec, comparison: Comparison, layout: _Layout, log_range: tuple[float, float], t: int,
                item: int, scene: Problem | None) -> np.ndarray:
    """render_frame with the layout and the energy axis already made (a recording makes them once)."""
    picture = _background(layout).copy()
    draw = ImageDraw.Draw(picture)
    for column, trace in enumerate(comparison.traces.values()):
        left = column * layout.column_width
        k = int(trace.at(t)[item])
        for y, image in zip(layout.image_ys, _pictures(spec, comparison, trace, k, item, scene)):
            picture.paste(_scaled(image, layout), (left + layout.image_x, y))
        _draw_state(spec, draw, layout, left, trace, t, item, log_range)
    return np.array(picture)


def _scaled(image: np.ndarray, layout: _Layout) -> Image.Image:
    """A panel's picture enlarged by the layout's whole factor (pixels stay sharp), or a rendered one, drawn at its
    own size, resized smoothly to the same size."""
    picture = Image.fromarray(image)
    if picture.size == layout.image_size:
        return picture
    pixelated = (picture.width * layout.scale, picture.height * layout.scale) == layout.image_size
    return picture.resize(layout.image_size,
                          Image.Resampling.NEAREST if pixelated else Image.Resampling.LANCZOS)


def _draw_state(
    spec: ProblemSpec, draw: ImageDraw.ImageDraw, layout: _Layout, left: int, trace: Trace, t: int, item: int,
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
    for row, key in enumerate(layout.text_lines):
        if key.startswith("info."):
            values = trace.info.get(key[len("info."):])
            label = None if values is None else f"{key[len('info.'):].replace('_', ' ')} {values[k, item]:.3g}"
        else:
            label = spec.metric(key).text(float(trace.metrics[key][k, item])) if key in trace.metrics else None
        if label is not None:
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


def check_settings(fps: int, max_frames: int) -> None:
    """ValueError unless the frame rate and the frame limit are within FPS_LIMITS and MAX_FRAMES_LIMITS; the
    command line checks them before it solves anything."""
    for flag, value, (low, high) in (("--fps", fps, FPS_LIMITS), ("--max-frames", max_frames, MAX_FRAMES_LIMITS)):
        if not low <= value <= high:
            raise ValueError(f"{flag} {value}: choose from {low} to {high}")


def record_comparison(
    comparison: Comparison,
    path: str | os.PathLike,
    item: int = 0,
    fps: int = 10,
    max_frames: int = 120,
    scale: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    problem: Problem | None = None,
) -> int:
    """Writes the animation of one item to path (.gif or .mp4) and returns the number of frames written.

    The timeline runs until the last solver stopped on this item (at most comparison.num_iterations), so that
    the animation does not end in a run of identical frames. problem: the batch the traces were solved on, for
    the problem's rendered panels (None: the panels alone)."""
    path = os.fspath(path)
    check_output(path, FORMATS, force=True)  # replacing a file is the caller's choice (the CLI's --force)
    check_settings(fps, max_frames)
    _check(comparison, item, scale, problem)
    timeline = max(int(trace.last_index()[item]) for trace in comparison.traces.values()) + 1
    positions = frame_positions(timeline, max_frames)
    spec = get_problem(comparison.problem)
    scene = _scene(problem, item)
    layout = _layout_of(spec, comparison, item, scale, scene)
    log_range = _energy_range(comparison, item)

    def frame(t: int) -> np.ndarray:
        return _draw_frame(spec, comparison, layout, log_range, t, item, scene)

    if path.lower().endswith(".gif"):
        samples = [frame(int(positions[i])) for i in sorted({0, len(positions) // 2, len(positions) - 1})]
        legend = layout.legend.entries if layout.legend is not None else ()
        opener = functools.partial(_gif_writer, palette=_gif_palette(samples, [colour for _, colour in legend]))
    else:
        opener = _mp4_writer
    with atomic_path(path) as temporary, opener(temporary, fps, (layout.height, layout.width)) as write:
        for done, t in enumerate(positions, start=1):
            write(frame(int(t)))
            if progress is not None:
                progress(done, len(positions))
    return len(positions)


def _gif_palette(samples: list[np.ndarray], colours: list[tuple[int, int, int]]) -> Image.Image:
    """One palette for every frame, made from a few of them (the first, middle and last) and swatches of the
    legend's colours (a legend covers too few pixels to earn a palette entry of its own): quantizing to a fixed
    palette is many times faster than Pillow's adaptive one per frame, and colours cannot flicker."""
    width = samples[0].shape[1]
    swatches = [np.full((width // 4, width, 3), colour, np.uint8) for colour in colours]
    strip = Image.fromarray(np.concatenate(samples + swatches, axis=0))
    return strip.quantize(colors=GIF_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


@contextlib.contextmanager
def _gif_writer(path: str, fps: int, size: tuple[int, int], palette: Image.Image
                ) -> Iterator[Callable[[np.ndarray], None]]:
    """Pillow writes a GIF in one go, so the frames wait, quantized, until the last one is in."""
    frames: list[Image.Image] = []
    yield lambda frame: frames.append(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
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
