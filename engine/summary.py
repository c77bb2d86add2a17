"""Per-solver summaries of a Comparison: the numbers the CLI prints, the benchmark tabulates and the GUI shows."""
from __future__ import annotations

import numpy as np

from .trace import Comparison, Trace

# (key, header, format) of the table columns: over a batch, in the paper's Table 1 order ...
COLUMNS = (
    ("steps", "Steps", "{:.1f}"),
    ("seconds_per_solve", "Time / solve (s)", "{:.3f}"),
    ("iou", "IoU", "{:.3f}"),
    ("translation_error_mean", "Trans. mean", "{:.3f}"),
    ("translation_error_median", "Trans. median", "{:.3f}"),
    ("rotation_error_mean", "Rot. mean (deg)", "{:.2f}"),
    ("rotation_error_median", "Rot. median (deg)", "{:.2f}"),
    ("outlier_percent", "Outliers (%)", "{:.1f}"),
)
# ... and for a single problem.
SINGLE_PROBLEM_COLUMNS = (
    ("steps", "Steps", "{:.0f}"),
    ("seconds_per_solve", "Time (s)", "{:.2f}"),
    ("iou", "IoU", "{:.3f}"),
    ("translation_error_mean", "Trans. error", "{:.4f}"),
    ("rotation_error_mean", "Rot. error (deg)", "{:.2f}"),
    ("outlier_percent", "Outlier", ""),
)


def summarize_trace(trace: Trace) -> dict[str, float]:
    """Means (and medians of the errors) over the batch at each item's last iteration."""
    summary = {
        "problems": int(trace.batch_size),
        "steps": float(trace.steps().mean()),
        "seconds_per_solve": float(trace.seconds_per_item().mean()),
        "batch_seconds": float(trace.elapsed[-1]),
        "iou": float(trace.final("iou").mean()),
        "energy": float(trace.final("energy").mean()),
    }
    if "translation_error" in trace.metrics:
        translation, rotation = trace.final("translation_error"), trace.final("rotation_error_deg")
        summary.update(
            translation_error_mean=float(translation.mean()),
            translation_error_median=float(np.median(translation)),
            rotation_error_mean=float(rotation.mean()),
            rotation_error_median=float(np.median(rotation)),
            outlier_percent=float(100.0 * trace.final("outlier").mean()),
        )
    return summary


def summarize(comparison: Comparison) -> dict[str, dict[str, float]]:
    return {name: summarize_trace(trace) for name, trace in comparison.traces.items()}


def markdown_table(summaries: dict[str, dict[str, float]]) -> str:
    """A Markdown table, one row per solver; columns without values (no ground truth) are left out."""
    single = all(s["problems"] == 1 for s in summaries.values())
    columns = [c for c in (SINGLE_PROBLEM_COLUMNS if single else COLUMNS) if any(c[0] in s for s in summaries.values())]
    lines = ["| Solver | " + " | ".join(header for _, header, _ in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name, summary in summaries.items():
        cells = [_cell(summary, key, fmt, single) for key, _, fmt in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(summary: dict[str, float], key: str, fmt: str, single: bool) -> str:
    if key not in summary:
        return "-"
    if single and key == "outlier_percent":
        return "yes" if summary[key] > 0 else "no"
    return fmt.format(summary[key])


def errors_after_steps(trace: Trace, steps: tuple[int, ...]) -> dict[int, dict[str, float]]:
    """Mean and median errors after each of the given numbers of steps (the paper's Table 2); an item that
    stopped earlier counts with its last estimate."""
    rows = {}
    for step in steps:
        index = np.minimum(step, trace.last_index())
        items = np.arange(trace.batch_size)
        translation = trace.metrics["translation_error"][index, items]
        rotation = trace.metrics["rotation_error_deg"][index, items]
        rows[step] = {"translation_error_mean": float(translation.mean()),
                      "translation_error_median": float(np.median(translation)),
                      "rotation_error_mean": float(rotation.mean()),
                      "rotation_error_median": float(np.median(rotation)),
                      "outlier_percent": float(100 * trace.metrics["outlier"][index, items].mean())}
    return rows
