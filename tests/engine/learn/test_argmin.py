"""The argmin layer: the damped implicit derivative against closed forms, finite differences of the re-solved
minimum and gradcheck; full Hessians and Hessian-vector products; flags and bad settings; CPU and CUDA."""
from __future__ import annotations

import pytest
import torch

from engine.learn.argmin import ArgminSettings, argmin, finishing_step

FULL_AND_HVP = [ArgminSettings(hessian="full"), ArgminSettings(hessian="hvp")]


def quadratic(q: torch.Tensor):
    """E(y; w) = 1/2 (y - w)^T Q (y - w) per item: y* = w, dE/dy = Q (y - w)."""
    def energy(y, weights):
        (w,) = weights
        d = y - w
        return 0.5 * (d * (q @ d[:, :, None]).squeeze(2)).sum(1)
    return energy


def spd(dim: int, device, seed: int = 0) -> torch.Tensor:
    a = torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (a @ a.T + 0.5 * torch.eye(dim, dtype=torch.float64)).to(device)


def smooth(y, weights):
    """A non-quadratic energy with one minimum per item: sum cosh(y - w) + 0.1 * sum (s * y)^4 ..."""
    w, s = weights
    return (torch.cosh(y - w) + 0.1 * (s * y).pow(4) + 0.3 * y.prod(1, keepdim=True)).sum(1)


def newton_minimum(energy, y, weights, steps: int = 60) -> torch.Tensor:
    settings = ArgminSettings(damping=0.0, hessian="full")
    frozen = [w.detach() for w in weights]
    for _ in range(steps):
        y = finishing_step(lambda v: energy(v, frozen), y, settings)
    return y


@pytest.mark.parametrize("settings", FULL_AND_HVP, ids=["full", "hvp"])
@pytest.mark.parametrize("damping", [0.0, 0.1, 2.0])
def test_quadratic_gradient_is_the_closed_form(device, settings, damping):
    dim, batch = 3, 4
    q = spd(dim, device)
    w = torch.randn(batch, dim, dtype=torch.float64, device=device, requires_grad=True)
    start = torch.zeros(batch, dim, dtype=torch.float64, device=device)
    y = newton_minimum(quadratic(q), start, [w])
    result = argmin(quadratic(q), y, [w], ArgminSettings(damping=damping, hessian=settings.hessian))
    torch.testing.assert_close(result.y, w.detach())
    upstream = torch.randn(batch, dim, dtype=torch.float64, device=device)
    (grad,) = torch.autograd.grad((result.y * upstream).sum(), w)
    # dy*/dw = (Q + lambda I)^-1 Q, so dL/dw = Q (Q + lambda I)^-1 upstream (Q symmetric)
    eye = torch.eye(dim, dtype=torch.float64, device=device)
    expected = (q @ torch.linalg.solve(q + damping * eye, upstream.T)).T
    torch.testing.assert_close(grad, expected)
    assert not result.flagged.any()


@pytest.mark.parametrize("hessian", ["full", "hvp"])
def test_smooth_energy_matches_finite_differences_of_the_resolved_minimum(device, hessian):
    batch, dim = 3, 2
    generator = torch.Generator().manual_seed(1)
    w = torch.randn(batch, dim, generator=generator, dtype=torch.float64).to(device)
    s = torch.tensor(0.7, dtype=torch.float64, device=device)

    def minimum(w_, s_):
        return newton_minimum(smooth, torch.zeros_like(w_), [w_, s_])

    w_ = w.clone().requires_grad_(True)
    s_ = s.clone().requires_grad_(True)
    result = argmin(smooth, minimum(w, s), [w_, s_], ArgminSettings(damping=1e-6, hessian=hessian))
    upstream = torch.randn(batch, dim, generator=generator, dtype=torch.float64).to(device)
    grad_w, grad_s = torch.autograd.grad((result.y * upstream).sum(), [w_, s_])
    eps = 1e-6
    numeric_s = ((minimum(w, s + eps) - minimum(w, s - eps)) * upstream).sum() / (2 * eps)
    torch.testing.assert_close(grad_s, numeric_s, rtol=1e-4, atol=1e-7)
    for item in range(batch):
        for k in range(dim):
            bump = torch.zeros_like(w)
            bump[item, k] = eps
            numeric = ((minimum(w + bump, s) - minimum(w - bump, s)) * upstream).sum() / (2 * eps)
            torch.testing.assert_close(grad_w[item, k], numeric, rtol=1e-4, atol=1e-7)


def test_gradcheck_undamped(device):
    w = torch.randn(2, 2, dtype=torch.float64, device=device, requires_grad=True)
    s = torch.tensor(0.5, dtype=torch.float64, device=device, requires_grad=True)

    def layer(w_, s_):
        y = newton_minimum(smooth, torch.zeros_like(w_), [w_, s_])
        return argmin(smooth, y, [w_, s_], ArgminSettings(damping=0.0)).y

    assert torch.autograd.gradcheck(layer, (w, s), atol=1e-6, rtol=1e-4)


def test_damping_bounds_the_gradient_where_the_minimum_is_flat(device):
    """E = (y - w)^4: H = 0 at the minimum. Undamped, the derivative is undefined (flagged); damped it is finite
    and at most |d grad / dw| / lambda."""
    def quartic(y, weights):
        return (y - weights[0]).pow(4).sum(1)

    w = torch.tensor([[0.3]], dtype=torch.float64, device=device, requires_grad=True)
    y = w.detach().clone()
    undamped = argmin(quartic, y, [w], ArgminSettings(damping=0.0))
    assert undamped.flagged.all()
    (grad,) = torch.autograd.grad(undamped.y.sum(), w)
    assert grad.abs().max() == 0
    damped = argmin(quartic, y + 0.1, [w], ArgminSettings(damping=0.1, newton_steps=0))
    assert not damped.flagged.any()
    (grad,) = torch.autograd.grad(damped.y.sum(), w)
    assert torch.isfinite(grad).all() and grad.abs().max() <= 0.12 / 0.1 + 1e-9


@pytest.mark.parametrize("hessian", ["full", "hvp"])
def test_an_item_at_a_saddle_is_flagged_and_the_others_train(device, hessian):
    """Item 0 sits at a saddle of y0^2 - y1^2 (+ w y0); item 1 at a minimum of y0^2 + y1^2 + w y0."""
    def energy(y, weights):
        sign = torch.tensor([-1.0, 1.0], dtype=y.dtype, device=y.device)
        return y[:, 0].square() + sign * y[:, 1].square() + weights[0] * y[:, 0]

    w = torch.tensor(0.4, dtype=torch.float64, device=device, requires_grad=True)
    y = torch.tensor([[-0.2, 0.0], [-0.2, 0.0]], dtype=torch.float64, device=device)
    result = argmin(energy, y, [w], ArgminSettings(hessian=hessian, newton_steps=0))
    (grad,) = torch.autograd.grad(result.y.sum(), w)  # hvp: CG meets the negative curvature in backward
    assert result.flagged.tolist() == [True, False]
    # item 1: y0* = -w / 2, H00 = 2, d grad0 / dw = 1, so dy0*/dw = -1 / (2 + lambda)
    torch.testing.assert_close(grad, torch.tensor(-1.0 / 2.1, dtype=torch.float64, device=device))


def test_batch_shapes_and_shared_and_per_item_weights(device):
    q = spd(4, device).float()
    shared = torch.randn(1, 4, device=device, requires_grad=True)
    for batch in (1, 5):
        y = newton_minimum(quadratic(q), torch.zeros(batch, 4, device=device), [shared.expand(batch, 4)])
        result = argmin(lambda v, ws: quadratic(q)(v, [ws[0].expand(len(v), 4)]), y, [shared])
        assert result.y.shape == (batch, 4) and result.flagged.shape == (batch,)
        assert result.gradient_norm.shape == (batch,)
        (grad,) = torch.autograd.grad(result.y.sum(), shared)
        assert grad.shape == shared.shape and grad.device.type == device.type


def test_bad_settings_and_inputs_are_refused_in_one_line():
    with pytest.raises(ValueError, match="damping lambda must be a number >= 0.*got -0.1"):
        ArgminSettings(damping=-0.1)
    with pytest.raises(ValueError, match="damping lambda"):
        ArgminSettings(damping=float("nan"))
    with pytest.raises(ValueError, match="hessian 'exact'"):
        ArgminSettings(hessian="exact")
    q = spd(2, "cpu")
    w = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="NaN or infinite"):
        argmin(quadratic(q), torch.tensor([[float("nan"), 0.0]], dtype=torch.float64), [w])
    with pytest.raises(ValueError, match=r"shape \(B, D\)"):
        argmin(quadratic(q), torch.zeros(2, dtype=torch.float64), [w])
