"""The energy trainer on a toy whose best weight is known: E(y; w) = (y - w x)^2 has its minimum at w x, and the
loss (y* - 2 x)^2 is zero at w = 2; a diverging run stops with its last finite weights; the weights file."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from engine.learn.energy_training import EnergyTrainConfig, train_energy
from engine.learn.energy_weights import load_energy_weights


@dataclass
class ScaleTask:
    config: EnergyTrainConfig
    problem: str = "toy"
    explode_at: int | None = None

    def initial_weights(self):
        return {"w": torch.tensor(0.5)}

    def training_batch(self, step, generator):
        return step, torch.randn(8, 1, generator=generator)

    def minimum(self, batch, weights):
        return weights["w"] * batch[1]

    def energy(self, y, batch, weights):
        return (y - weights["w"] * batch[1]).square().sum(1)

    def loss(self, y, batch):
        scale = 1e30 if batch[0] == self.explode_at else 1.0
        return scale * (y - 2 * batch[1]).square().mean()

    def validate(self, weights):
        return {"w": float(weights["w"])}

    def meta(self):
        return {"data": "normal x"}


def test_learns_the_scale_through_the_minimum(tmp_path):
    out = tmp_path / "toy.safetensors"
    config = EnergyTrainConfig(steps=150, learning_rate=0.05, momentum=0.5, damping=0.0)
    run = train_energy(ScaleTask(config), str(out), log=lambda m: None)
    assert run.weights["w"].item() == pytest.approx(2.0, abs=1e-3)
    assert len(run.history) == 150 and run.history[0].weights["w"] == pytest.approx(0.5)
    weights, meta = load_energy_weights(out, "toy", {"w": ()})
    assert weights["w"].item() == pytest.approx(2.0, abs=1e-3) and meta["validation"]["w"] == pytest.approx(2.0, abs=1e-3)


def test_damping_shrinks_the_steps_by_h_over_h_plus_lambda():
    """H = 2 here, so the damped derivative is 2 / 2.1 of the undamped one at the same point."""
    grads = {}
    for damping in (0.0, 0.1):
        run = train_energy(ScaleTask(EnergyTrainConfig(steps=1, damping=damping)), log=lambda m: None)
        grads[damping] = run.history[0].gradient_norm
    assert grads[0.1] == pytest.approx(grads[0.0] * 2 / 2.1, rel=1e-5)


def test_adam_and_a_run_that_diverges_keeps_its_last_finite_weights():
    messages = []
    run = train_energy(ScaleTask(EnergyTrainConfig(steps=20, learning_rate=1e6, optimizer="sgd", momentum=0.0),
                                 explode_at=3), log=messages.append)
    assert run.meta["diverged_at"] is not None or run.meta["skipped_steps"] > 0
    assert torch.isfinite(run.weights["w"])
    adam = train_energy(ScaleTask(EnergyTrainConfig(steps=200, learning_rate=0.05, optimizer="adam")),
                        log=lambda m: None)
    assert adam.weights["w"].item() == pytest.approx(2.0, abs=0.05)


def test_bad_settings():
    with pytest.raises(ValueError, match="--optimizer"):
        EnergyTrainConfig(optimizer="lion")
