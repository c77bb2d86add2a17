"""lbfgs-temporal: windows of consecutive frames optimised together, and the motion sequences it is measured on."""
from __future__ import annotations

import json

import pytest
import torch

from engine.problems.body_hmd import SPEC, sequences
from engine.problems.body_hmd.files import parse_x
from engine.problems.body_hmd.temporal import TemporalLbfgs, TemporalParams, WindowProblem


@pytest.fixture(scope="module")
def walk():
    """Four frames of the walk cycle, their problem and observation."""
    truth = parse_x("walk-cycle")[:4]
    problem = SPEC.make(SPEC.config(), {}, "cpu", len(truth))
    return problem, problem.forward(truth), truth


def test_window_energy_is_the_frames_energies_plus_the_joint_motion(walk):
    problem, observation, truth = walk
    x = problem.initial_estimate() + 0.05 * torch.randn(4, 159, generator=torch.Generator().manual_seed(0))
    own = problem.energy(None, observation, x)
    windows = WindowProblem(problem, 2, 0.5)
    frames = windows.frame_energies(x.reshape(2, -1), observation.reshape(2, -1))
    joints = problem.posed(x, "fingertips").joints
    motion = 0.5 * (100 * (joints[1::2] - joints[0::2])).square().sum((1, 2))
    torch.testing.assert_close(frames.sum(1), own.reshape(2, 2).sum(1) + motion)
    torch.testing.assert_close(windows.energy(None, observation.reshape(2, -1), x.reshape(2, -1)), frames.sum(1))
    torch.testing.assert_close(WindowProblem(problem, 2, 0.0).frame_energies(x.reshape(2, -1),
                                                                             observation.reshape(2, -1)).flatten(), own)


def test_windows_of_one_frame_without_motion_term_are_lbfgs_prior(walk):
    problem, observation, truth = walk
    x0 = problem.initial_estimate()
    plain = SPEC.solver("lbfgs-prior").factory(max_iterations=4).solve(problem, observation, x0)
    single = SPEC.solver("lbfgs-temporal").factory(max_iterations=4, window=1, temporal_weight=0.0).solve(
        problem, observation, x0)
    torch.testing.assert_close(single.x, plain.x)
    torch.testing.assert_close(single.energy, plain.energy)


def test_the_motion_term_smooths_the_fit_and_the_energy_falls(walk):
    problem, observation, truth = walk
    x0 = problem.initial_estimate()
    trace = list(SPEC.solver("lbfgs-temporal").factory(max_iterations=6, window=4, temporal_weight=10.0).iterate(
        problem, observation, x0))
    plain = SPEC.solver("lbfgs-prior").factory(max_iterations=6).solve(problem, observation, x0)
    assert float(trace[-1].energy.sum()) < float(trace[1].energy.sum())

    def motion(x):
        joints = problem.posed(x, "fingertips").joints
        return float((joints[1:] - joints[:-1]).norm(dim=-1).mean())

    assert motion(trace[-1].x) < motion(plain.x)


def test_windows_hold_the_most_frames_that_divide_the_batch(walk):
    """4 frames in windows of at most 3: windows of 2; a broken WindowProblem and a window of 0 are refused."""
    problem, observation, truth = walk
    solver = TemporalLbfgs(TemporalParams(window=3, max_iterations=2))
    assert solver.init_state(problem.initial_estimate())["window"].tolist() == [2, 2, 2, 2]
    assert solver.solve(problem, observation, problem.initial_estimate()).index == 2
    with pytest.raises(ValueError, match="4 frames do not split into windows of 3"):
        WindowProblem(problem, 3, 1.0)
    with pytest.raises(ValueError, match="window must be at least 1"):
        TemporalParams(window=0)


def test_sequences_are_windows_of_consecutive_frames_of_one_body(monkeypatch):
    motion = torch.zeros(40, 24, 3)
    motion[:, 18, 2] = torch.linspace(0, 1, 40)  # an elbow bending over the clip
    monkeypatch.setattr(sequences, "cmu_clips", lambda: ["clip.bvh"])
    monkeypatch.setattr(sequences, "load_motion", lambda clip: motion)
    problem, truth = sequences.sequence_batch(SPEC.make(SPEC.config(), {}, "cpu", 6), 3,
                                              torch.Generator().manual_seed(0))
    assert truth.shape == (6, 159)
    assert torch.equal(problem.betas[0], problem.betas[2]) and not torch.equal(problem.betas[0], problem.betas[3])
    elbow = truth[:, 3 * 18 + 2].reshape(2, 3)
    torch.testing.assert_close(elbow[:, 1:] - elbow[:, :-1], torch.full((2, 2), 4 / 39))  # 30 Hz of 120 Hz
    torch.testing.assert_close(truth[:3, 66:156], truth[2:3, 66:156].expand(3, -1))  # one hand pose per window
    monkeypatch.setattr(sequences, "cmu_clips", lambda: [])
    with pytest.raises(ValueError, match="assimp-testmodels"):
        sequences.sequence_batch(problem, 3, torch.Generator())


def test_the_bench_measures_the_temporal_baseline_on_motion(monkeypatch, tmp_path, capsys):
    from engine.cli import main

    monkeypatch.setattr(sequences, "cmu_clips", lambda: ["clip.bvh"])
    monkeypatch.setattr(sequences, "load_motion", lambda clip: torch.zeros(40, 24, 3))
    results = tmp_path / "bench.json"
    assert main(["bench", "body-hmd", "--n", "1", "--solvers", "lbfgs-prior", "--max-iterations", "2",
                 "--sequence-windows", "1", "--out", str(results)]) == 0
    assert "Table 2 on motion: 1 windows of 8 frames" in capsys.readouterr().out
    table = json.loads(results.read_text())["sequences"]["visibility"]
    assert set(table) == {"full", "half-space"} and set(table["full"]) == {"lbfgs-prior", "lbfgs-temporal"}
