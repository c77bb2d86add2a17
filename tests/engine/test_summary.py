import numpy as np

from engine.problems.pose6d import SPEC
from engine.summary import markdown_table, summarize_trace
from engine.trace import Trace


def make_trace(outliers):
    steps, batch = 4, len(outliers)
    computed = np.ones((steps, batch), bool)
    computed[2:, 0] = False  # item 0 stopped after iteration 1
    errors = np.tile(np.arange(batch, dtype=float), (steps, 1))
    return Trace(
        solver="toy", x=np.zeros((steps, batch, 7)), energy=np.ones((steps, batch)), update=np.zeros((steps, batch, 7)),
        elapsed=np.cumsum(np.full(steps, 0.5)), step_seconds=np.full(steps, 0.5), computed=computed,
        status=np.zeros((steps, batch), int),
        metrics={"iou": np.ones((steps, batch)), "translation_error": errors, "rotation_error_deg": 10 * errors,
                 "outlier": np.tile(np.array(outliers, float), (steps, 1))},
    )


def test_summary_numbers():
    summary = summarize_trace(SPEC, make_trace([0, 1, 0, 1]))
    assert summary["steps"] == (1 + 3 + 3 + 3) / 4
    assert summary["translation_error_mean"] == 1.5 and summary["rotation_error_deg_median"] == 15.0
    assert summary["outlier_percent"] == 50.0
    assert abs(summary["seconds_per_solve"] * 4 - 2.0) < 1e-9  # the batch's time, shared out


def test_markdown_table_has_a_row_per_solver():
    table = markdown_table(SPEC, {"a": summarize_trace(SPEC, make_trace([0, 0])), "b": summarize_trace(SPEC, make_trace([1, 1]))})
    lines = table.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| a |") and "Outliers (%)" in lines[0]


def test_single_problem_table_shows_the_outlier_flag():
    table = markdown_table(SPEC, {"a": summarize_trace(SPEC, make_trace([1])), "b": summarize_trace(SPEC, make_trace([0]))})
    lines = table.splitlines()
    assert "Outliers |" in lines[0] and "median" not in lines[0]
    assert lines[2].endswith("| yes |") and lines[3].endswith("| no |")
