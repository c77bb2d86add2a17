"""Per-solver summaries of a Comparison, read from the problem's spec: the numbers the CLI prints, the
benchmark tabulates and the app shows."""
from __future__ import annotations

import numpy as np

from .problems.spec import Metric, ProblemSpec
from .trace import Comparison, Trace


def aggregate(metric: Metric, aggregate_name: str, values: np.ndarray) -> float:
    if aggregate_name == "median":
        return float(np.median(values))
    if aggregate_name == "percent":
        return float(100.0 * np.mean(values))
    return float(np.mean(values))


def metric_summary(spec: ProblemSpec, trace: Trace, index: np.ndarray) -> dict[str, float]:
    """Every aggregate of every metric the trace holds, at iteration index[b] of each item b."""
    items = np.arange(trace.batch_size)
    summary = {}
    for metric in spec.metrics:
        if metric.key in trace.metrics:
            values = trace.metrics[metric.key][index, items]
            summary.update({f"{metric.key}_{name}": aggregate(metric, name, values) for name in metric.aggregates})
    return summary


def summarize_trace(spec: ProblemSpec, trace: Trace) -> dict[str, float]:
    """Steps, time, energy and the spec's metric aggregates over the batch at each item's last iteration."""
    summary = {
        "problems": int(trace.batch_size),
        "steps": float(trace.steps().mean()),
        "seconds_per_solve": float(trace.seconds_per_item().mean()),
        "batch_seconds": float(trace.elapsed[-1]),
        "energy": float(trace.final("energy").mean()),
        "failed": int(len(trace.failures)),
    }
    summary.update(metric_summary(spec, trace, trace.last_index()))
    return summary


def summarize(spec: ProblemSpec, comparison: Comparison) -> dict[str, dict[str, float]]:
    return {name: summarize_trace(spec, trace) for name, trace in comparison.traces.items()}


def errors_after_steps(spec: ProblemSpec, trace: Trace, steps: tuple[int, ...]) -> dict[int, dict[str, float]]:
    """The metric aggregates after each of the given numbers of steps (the paper's Table 2); an item that
    stopped earlier counts with its last estimate."""
    return {step: metric_summary(spec, trace, np.minimum(step, trace.last_index())) for step in steps}


def _columns(spec: ProblemSpec, single: bool) -> list[tuple[str, str, str, bool]]:
    """(summary key, header, format, is flag) of the table's columns."""
    columns = [("steps", "Steps", "{:.0f}" if single else "{:.1f}", False),
               ("seconds_per_solve", "Time (s)" if single else "Time / solve (s)", "{:.2f}" if single else "{:.3g}",
                False)]
    for metric in spec.metrics:
        aggregates = ("percent",) if metric.is_flag else (("mean",) if single else metric.aggregates)
        for name in aggregates:
            header = metric.label if (single and metric.is_flag) else (
                f"{metric.label} ({metric.unit})" if single and metric.unit else
                metric.label if single else metric.header(name))
            columns.append((f"{metric.key}_{name}", header, metric.format, metric.is_flag))
    return columns


def markdown_table(spec: ProblemSpec, summaries: dict[str, dict[str, float]]) -> str:
    """A Markdown table, one row per solver; columns without values (no ground truth) are left out."""
    single = all(s["problems"] == 1 for s in summaries.values())
    columns = [c for c in _columns(spec, single) if any(c[0] in s for s in summaries.values())]
    lines = ["| Solver | " + " | ".join(header for _, header, _, _ in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for name, summary in summaries.items():
        cells = []
        for key, _, fmt, flag in columns:
            if key not in summary:
                cells.append("-")
            elif flag and single:
                cells.append("yes" if summary[key] > 0 else "no")
            else:
                cells.append(("{:.1f}" if flag else fmt).format(summary[key]))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def steps_table(spec: ProblemSpec, per_step: dict[str, dict[int, dict[str, float]]]) -> str:
    """A Markdown table of errors_after_steps for several solvers: one column per number of steps, each cell the
    means of the spec's non-flag metrics joined by ' / ' (their order is the caption's, steps_caption); a solver
    with fewer steps leaves the later cells empty."""
    steps = sorted(set().union(*per_step.values()))
    metrics = [m for m in spec.metrics if not m.is_flag]
    lines = ["| Solver | " + " | ".join(f"{k} step{'s' if k != 1 else ''}" for k in steps) + " |",
             "|---" * (len(steps) + 1) + "|"]
    for name, rows in per_step.items():
        cells = [" / ".join(m.format.format(rows[k][f"{m.key}_mean"]) for m in metrics if f"{m.key}_mean" in rows[k])
                 if k in rows else "" for k in steps]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def steps_caption(spec: ProblemSpec) -> str:
    """What steps_table's cells hold, e.g. 'mean Pos. (cm) / mean Rot. (deg)'."""
    return " / ".join(f"mean {m.label}" + (f" ({m.unit})" if m.unit else "") for m in spec.metrics if not m.is_flag)


def speedups(summaries: dict[str, dict[str, float]], fast: list[str], slow: list[str]) -> str:
    """'feedback is 180x faster than nmr per solve' for every fast / slow pair of solvers in the summaries."""
    lines = [f"{a} is {summaries[b]['seconds_per_solve'] / max(summaries[a]['seconds_per_solve'], 1e-9):.0f}x "
             f"faster than {b} per solve" for a in fast if a in summaries for b in slow if b in summaries]
    return ("\n" + "\n".join(lines)) if lines else ""


def batch_time_line(summaries: dict[str, dict[str, float]], count: int) -> str:
    """'Time per iteration of the whole batch of N (ms): ...' from each summary's ms_per_iteration."""
    return f"Time per iteration of the whole batch of {count} (ms): " + ", ".join(
        f"{name} {s['ms_per_iteration']:.1f}" for name, s in summaries.items())
