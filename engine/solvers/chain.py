"""One solver after another: the second starts from the first's final estimate (supplementary Table 1 uses
the feedback solver's result as the SoftRas optimizer's initial estimate). The records form one timeline."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator

import torch

from .base import Iteration, IterativeSolver


@dataclass(frozen=True)
class ChainParams:
    first: dict[str, Any]
    second: dict[str, Any]


class ChainedSolver:
    """`first`'s iterations but its last, then `second`'s, indices and times continuing."""

    def __init__(self, name: str, first: IterativeSolver, second: IterativeSolver):
        self.name = name
        self.first, self.second = first, second
        self.params = ChainParams(asdict(first.params), asdict(second.params))

    def iterate(
        self, problem: Any, observation: torch.Tensor, x0: torch.Tensor, ground_truth: torch.Tensor | None = None
    ) -> Iterator[Iteration]:
        final = None
        for record in self.first.iterate(problem, observation, x0, ground_truth):
            if final is not None:
                yield final
            final = record
        assert final is not None
        for record in self.second.iterate(problem, observation, final.x, ground_truth):
            if record.index == 0:
                record.update = final.update  # the step that led to this estimate was the first solver's
            record.index += final.index
            record.elapsed += final.elapsed
            yield record

    def solve(self, problem: Any, observation: torch.Tensor, x0: torch.Tensor,
              ground_truth: torch.Tensor | None = None) -> Iteration:
        *_, last = self.iterate(problem, observation, x0, ground_truth)
        return last
