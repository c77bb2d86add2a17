"""The iteration loop, on a toy problem whose prediction is the estimate itself."""
import time
from dataclasses import dataclass

import pytest
import torch

from engine.problems.spec import ArraySpec
from engine.solvers.base import IterativeSolver, SolverParams, Status, StepResult


@dataclass
class ToyProblem:
    """Recover x from y = x: the prediction (B, 1, 2) is x, energy the squared distance."""

    batch_size: int
    parameter_names = ("a", "b")
    observation_spec = ArraySpec((1, 2), "the target")

    def subset(self, index):
        return ToyProblem(int(index.numel()))

    def energy(self, rendering, observation, x):
        return (rendering - observation).square().flatten(1).sum(1)

    def metrics(self, x, rendering, observation, ground_truth):
        return {"distance": (x - observation[:, 0]).norm(dim=1)}


class HalfwaySolver(IterativeSolver):
    """Moves halfway to the observation each step; `rates` < 1 per item make some items slower."""

    name = "halfway"

    def __init__(self, params=None, poison_item=None):
        super().__init__(params)
        self.poison_item = poison_item
        self.batch_sizes = []

    def init_state(self, x0):
        return {"count": torch.zeros(x0.shape[0])}

    def step(self, problem, observation, x, state, iteration):
        self.batch_sizes.append(x.shape[0])
        state["count"] += 1
        rendering = x[:, None, :]
        next_x = x + 0.5 * (observation[:, 0] - x)
        if self.poison_item is not None and iteration == 2 and x.shape[0] > self.poison_item:
            next_x[self.poison_item] = float("nan")
        return StepResult(rendering, problem.energy(rendering, observation, x), next_x)


def run(solver, targets, x0=None):
    observation = targets[:, None, :]
    x0 = torch.zeros_like(targets) if x0 is None else x0
    return list(solver.iterate(ToyProblem(targets.shape[0]), observation, x0))


def test_records_are_batch_first_and_consistent():
    targets = torch.tensor([[1.0, 2.0], [0.0, 0.0], [-4.0, 1.0]])
    records = run(HalfwaySolver(SolverParams(max_iterations=5, patience=0)), targets)
    assert len(records) == 6 and [r.index for r in records] == list(range(6))
    first, second = records[0], records[1]
    assert first.x.shape == (3, 2) and first.prediction.shape == (3, 1, 2) and first.energy.shape == (3,)
    assert torch.equal(first.update, torch.zeros(3, 2))
    assert torch.allclose(second.x, 0.5 * targets) and torch.allclose(second.update, 0.5 * targets)
    assert torch.allclose(records[-1].metrics["distance"], targets.norm(dim=1) / 32)
    assert (records[-1].status == Status.MAX_ITERATIONS).all()
    assert all(b.elapsed >= a.elapsed for a, b in zip(records, records[1:]))


def test_items_stop_on_their_own_and_are_no_longer_computed():
    targets = torch.tensor([[0.0, 0.0], [100.0, 0.0]])  # item 0 starts solved: its energy never improves
    solver = HalfwaySolver(SolverParams(max_iterations=50, patience=3, min_improvement=1e-6))
    records = run(solver, targets)
    status = records[-1].status
    assert status.tolist() == [Status.CONVERGED, Status.CONVERGED]
    stopped_at = [next(r.index for r in records if r.status[i] != Status.RUNNING) for i in range(2)]
    assert stopped_at[0] == 3 and stopped_at[1] > 10
    assert solver.batch_sizes[:4] == [2, 2, 2, 2] and set(solver.batch_sizes[4:]) == {1}
    assert not records[5].computed[0] and records[5].computed[1]
    assert torch.equal(records[-1].x[0], torch.zeros(2))  # frozen


class ChangingEnergySolver(HalfwaySolver):
    """HalfwaySolver whose energy changes (StepResult.energy_changed) in the first `changes` iterations."""

    def __init__(self, params, changes):
        super().__init__(params)
        self.changes = changes

    def step(self, problem, observation, x, state, iteration):
        result = super().step(problem, observation, x, state, iteration)
        result.energy_changed = 0 < iteration <= self.changes
        return result


def test_patience_counts_from_the_last_change_of_the_energy():
    targets = torch.tensor([[0.0, 0.0]])  # solved from the start: the energy never improves
    records = run(ChangingEnergySolver(SolverParams(max_iterations=50, patience=3), changes=5), targets)
    assert records[-1].status.tolist() == [Status.CONVERGED] and records[-1].index == 5 + 3


def test_non_finite_update_fails_item_and_keeps_last_estimate():
    targets = torch.tensor([[1.0, 1.0], [2.0, 2.0]])
    records = run(HalfwaySolver(SolverParams(max_iterations=6, patience=0), poison_item=1), targets)
    assert records[-1].status.tolist() == [Status.MAX_ITERATIONS, Status.FAILED]
    assert torch.isfinite(records[-1].x).all()
    assert torch.allclose(records[-1].x[1], 0.75 * targets[1])


def test_consumer_time_is_not_counted():
    records = []
    for record in HalfwaySolver(SolverParams(max_iterations=3, patience=0)).iterate(
        ToyProblem(1), torch.ones(1, 1, 2), torch.zeros(1, 2)
    ):
        records.append(record)
        time.sleep(0.05)
    assert records[-1].elapsed < 0.05


def test_x0_is_not_modified():
    x0 = torch.zeros(1, 2)
    run(HalfwaySolver(SolverParams(max_iterations=3)), torch.ones(1, 2), x0)
    assert torch.equal(x0, torch.zeros(1, 2))


@pytest.mark.parametrize(
    "x0, observation, message",
    [
        (torch.zeros(2, 2), torch.zeros(1, 1, 2), "x0 must have shape"),
        (torch.zeros(1, 2), torch.zeros(1, 2), "observation must have shape"),
        (torch.full((1, 2), float("nan")), torch.zeros(1, 1, 2), "NaN"),
    ],
)
def test_bad_input_rejected(x0, observation, message):
    with pytest.raises(ValueError, match=message):
        next(HalfwaySolver().iterate(ToyProblem(1), observation, x0))
