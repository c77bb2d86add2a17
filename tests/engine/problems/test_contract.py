"""The problem contract, checked for every registered problem on every device: smoke, batch sizes and subsets,
observation shapes, gradients, residuals, rendered panels, and a round trip of every solver through traces and
recordings."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.compare import run_comparison
from engine.problems.registry import get_problem, problems
from engine.problems.spec import CAMERA_VIEW, SOLVER_KINDS, ProblemSpec, Viewpoint, config_fields, config_to_dict
from engine.record import record_comparison, render_frame
from engine.solvers.base import Status
from engine.solvers.generic import linearize
from engine.summary import markdown_table, summarize
from engine.trace import Comparison

NAMES = sorted(problems())


@pytest.fixture(params=NAMES)
def spec(request) -> ProblemSpec:
    return get_problem(request.param)


def instances(spec: ProblemSpec, batch: int, device, seed: int = 0):
    problem = spec.make(spec.config(), {}, device, batch)
    truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
    return problem, truth, problem.forward(truth).float()


def tangent_dim(spec: ProblemSpec, problem) -> int:
    """The spec's, or an image problem's own (its pixels)."""
    return problem.tangent_dim if spec.x_is_image else spec.tangent_dim


def test_registry_lists_every_problem_folder():
    assert {"pose6d", "ik"} <= set(NAMES)
    with pytest.raises(ValueError, match="unknown problem 'nope'.*choose from"):
        get_problem("nope")


def test_spec_is_complete(spec):
    assert spec.parameter_names or spec.x_is_image
    assert len(set(spec.parameter_names)) == len(spec.parameter_names)
    if spec.x_is_image:
        assert len(spec.parameters) == 1 and spec.tangent_dim == 0
    assert spec.solvers and set(spec.default_solvers) <= {entry.name for entry in spec.solvers}
    assert spec.panels and spec.metrics and spec.slice_axes
    for f in config_fields(spec.config):
        assert f.help, f"{spec.name}: config field {f.name} has no docstring (it is the CLI help)"
    for entry in spec.solvers:
        assert entry.kind in SOLVER_KINDS and entry.description and entry.update_rule


@pytest.mark.parametrize("batch", [1, 3])
def test_smoke_and_batch_shapes(spec, device, batch):
    problem, truth, observation = instances(spec, batch, device)
    assert problem.batch_size == batch
    assert truth.shape == (batch, spec.x_dimension(observation.shape[1:])) and truth.device.type == device.type
    spec.observation.check(observation, batch)
    x0 = problem.initial_estimate()
    assert x0.shape == truth.shape and x0.device.type == device.type
    prediction = problem.forward(x0)
    assert prediction.shape == observation.shape and prediction.device.type == device.type
    energy = problem.energy(prediction, observation, x0)
    assert energy.shape == (batch,) and torch.isfinite(energy).all()
    metrics = problem.metrics(x0, prediction, observation, truth)
    assert set(metrics) == {metric.key for metric in spec.metrics}
    assert all(value.shape == (batch,) for value in metrics.values())
    unknown_truth = problem.metrics(x0, prediction, observation, None)
    assert set(unknown_truth) == {metric.key for metric in spec.metrics if not metric.needs_ground_truth}
    retracted = problem.retract(x0, torch.zeros(batch, tangent_dim(spec, problem), device=device))
    torch.testing.assert_close(retracted, x0)


def test_subset(spec, device):
    problem, truth, observation = instances(spec, 3, device)
    index = torch.tensor([2, 0], device=device)
    part = problem.subset(index)
    assert part.batch_size == 2
    torch.testing.assert_close(part.forward(truth[index]), problem.forward(truth)[index])


def test_wrong_observation_shape_is_rejected_with_its_shape(spec, device):
    problem, truth, observation = instances(spec, 1, device)
    solver = spec.make_solver(spec.default_solvers[0], max_iterations=1)
    wrong = observation.reshape(1, -1) if observation.ndim > 2 else observation[..., None]  # one axis too few or many
    with pytest.raises(ValueError, match=r"observation must have shape.*got \(1,"):
        next(iter(solver.iterate(problem, wrong, problem.initial_estimate())))
    nan = observation.clone()
    nan.view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        next(iter(solver.iterate(problem, nan, problem.initial_estimate())))


def test_differentiable_forward_matches_finite_differences(spec, device):
    if spec.gradient_options is None:
        pytest.skip(f"{spec.name} has no differentiable forward")
    problem, truth, observation = instances(spec, 2, device, seed=3)
    x = problem.retract(truth, 0.05 * torch.randn(2, tangent_dim(spec, problem), generator=torch.Generator().manual_seed(0))
                        .to(device))

    def energy(dx: torch.Tensor) -> torch.Tensor:
        moved = problem.retract(x, dx)
        return problem.energy(problem.forward_differentiable(moved, **spec.gradient_options), observation, moved)

    dx = torch.zeros(2, tangent_dim(spec, problem), device=device, requires_grad=True)
    (gradient,) = torch.autograd.grad(energy(dx).sum(), dx)
    direction = torch.nn.functional.normalize(gradient, dim=1)
    h = 1e-3
    with torch.no_grad():
        numeric = (energy(h * direction) - energy(-h * direction)) / (2 * h)
    analytic = (gradient * direction).sum(1)
    torch.testing.assert_close(numeric, analytic, rtol=0.05, atol=1e-6)


def test_residuals_are_consistent_with_the_energy(spec, device):
    if "residuals" not in spec.capabilities:
        pytest.skip(f"{spec.name} has no residuals")
    problem, truth, observation = instances(spec, 3, device, seed=1)
    x = problem.retract(truth, 0.1 * torch.randn(3, tangent_dim(spec, problem), generator=torch.Generator().manual_seed(0))
                        .to(device))
    residuals = problem.residuals(x, observation)
    assert residuals.ndim == 2 and residuals.shape[0] == 3
    torch.testing.assert_close(residuals.square().sum(1), problem.energy(problem.forward(x), observation, x),
                               rtol=1e-5, atol=1e-5)
    if hasattr(problem, "residual_jacobian") or hasattr(problem, "linearize"):
        x64, observation64 = x.double(), observation.double()
        prediction, residuals64, jacobian = linearize(problem, x64, observation64)
        torch.testing.assert_close(prediction, problem.forward(x64))
        torch.testing.assert_close(residuals64, problem.residuals(x64, observation64))
        numeric = torch.autograd.functional.jacobian(
            lambda dx: problem.residuals(problem.retract(x64, dx), observation64).sum(0),
            torch.zeros(3, tangent_dim(spec, problem), dtype=torch.float64, device=device)).permute(1, 0, 2)
        torch.testing.assert_close(jacobian, numeric, rtol=1e-6, atol=1e-8)


def test_rendered_panels_draw_one_item_from_any_viewpoint(spec):
    """Pictures of the estimate, with and without the ground truth, from the camera and an orbit; an estimate
    of the wrong size is refused with a ValueError."""
    if not spec.rendered_panels:
        pytest.skip(f"{spec.name} renders no panels")
    problem, truth, observation = instances(spec, 1, "cpu")
    x0, truth = problem.initial_estimate()[0].numpy(), truth[0].numpy()
    for panel in spec.rendered_panels:
        pictures = [panel.render(problem, x0, None, CAMERA_VIEW), panel.render(problem, x0, truth, CAMERA_VIEW),
                    panel.render(problem, x0, truth, Viewpoint(0.6, 0.3))]
        for picture in pictures:
            assert picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8, panel.key
            assert picture.shape == pictures[0].shape, panel.key
        assert not np.array_equal(pictures[0], pictures[1]) and not np.array_equal(pictures[1], pictures[2])
        with pytest.raises(ValueError):
            panel.render(problem, x0[:-1], None, CAMERA_VIEW)


def test_every_solver_round_trips_through_trace_and_recording(spec, tmp_path):
    problem, truth, observation = instances(spec, 2, "cpu", seed=2)
    names = [entry.name for entry in spec.solvers]
    comparison = run_comparison(spec, problem, observation, names, ground_truth=truth,
                                solver_options={"max_iterations": 3})
    assert comparison.config == config_to_dict(spec.config())
    for name, trace in comparison.traces.items():
        assert trace.num_iterations >= 2, name
        assert set(trace.metrics) == {metric.key for metric in spec.metrics}, name
        assert trace.status[-1].max() != Status.RUNNING or trace.num_iterations == 4, name
    path = tmp_path / "trace.npz"
    comparison.save(path)
    loaded = Comparison.load(path)
    assert loaded.problem == spec.name and loaded.config == comparison.config
    np.testing.assert_array_equal(loaded.observation, comparison.observation)
    for name, trace in comparison.traces.items():
        again = loaded.traces[name]
        np.testing.assert_array_equal(again.x, trace.x)
        np.testing.assert_array_equal(again.predictions, trace.predictions)
        last = trace.last_index()[0]
        stored = again.prediction(last, 0)
        assert stored.dtype == np.float32 and stored.shape == observation.shape[1:]
        if spec.observation.storage == "float32" and name in ("gauss-newton", "lm", "adam", "lbfgs"):
            exact = problem.subset(torch.tensor([0])).forward(torch.as_tensor(trace.x[last, :1]))[0].numpy()
            np.testing.assert_allclose(stored, exact, atol=1e-6)  # float predictions are not quantized
        assert set(again.info) == set(trace.info)
    assert markdown_table(spec, summarize(spec, loaded)).count("\n") == len(names) + 1
    frame = render_frame(loaded, 1, item=1, problem=problem)
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert record_comparison(loaded, tmp_path / "run.gif", max_frames=12, problem=problem) >= 2
    assert (tmp_path / "run.gif").stat().st_size > 1000


def test_every_solver_round_trips_through_the_worker_and_the_live_trace(spec, tmp_path):
    from app.live_trace import LiveTrace
    from engine.worker import protocol as p
    from engine.worker.engine_state import EngineState

    results: list = []
    engine = EngineState(results.append, "cpu")
    engine.handle(p.SetProblem(spec.name, {}))
    engine.handle(p.NewObservation(seed=4))
    assert [type(r).__name__ for r in results] == ["ProblemChanged", "ObservationReady"], results
    observation = results[-1].observation
    spec.observation.check(observation[None], 1)
    names = tuple(entry.name for entry in spec.solvers)
    engine.handle(p.Run(names, {"max_iterations": 2}))
    assert isinstance(results[-1], p.RunStarted) and results[-1].solvers == names
    while engine.running:
        engine.advance()
    traces = {name: LiveTrace(name) for name in names}
    for result in results:
        if isinstance(result, p.IterationDone):
            traces[result.solver].append(result)
    assert isinstance(results[-1], p.RunFinished) and not results[-1].cancelled
    for name, live in traces.items():
        assert len(live) >= 2 and live.finished, name
        trace = live.to_trace(spec.observation)
        assert trace.predictions.shape[2:] == observation.shape, name
        assert set(trace.metrics) == {metric.key for metric in spec.metrics}, name
        back = LiveTrace.from_trace(trace)
        assert all(np.array_equal(a.prediction, b.prediction) for a, b in zip(back.records, live.records)), name


def _numeric_fields(spec: ProblemSpec):
    return [f for f in config_fields(spec.config) if f.type in (int, float, tuple)]


@pytest.mark.parametrize("value", ["nan", "inf", "-1e30", "1e30"])
def test_every_number_of_a_config_is_checked_against_its_range(spec, value):
    """From flags and from saved or app settings alike, with the flag and its range in the message."""
    from argparse import Namespace

    from engine.problems.spec import config_from_arguments, config_from_dict

    for f in _numeric_fields(spec):
        with pytest.raises(ValueError, match=f"{f.flag}.* (from|above) "):
            config_from_arguments(spec.config, Namespace(**{f"config_{f.name}": value}))
        with pytest.raises(ValueError, match=f.flag):
            config_from_dict(spec.config, {f.name: [float(value)] if f.type is tuple else float(value)})


@pytest.mark.parametrize("option, value", [("learning_rate", float("nan")), ("learning_rate", float("inf")),
                                           ("learning_rate", 1e30), ("sigma", float("nan")), ("sigma_final", 0.0),
                                           ("sigma_steps", -1), ("max_iterations", 10**9)])
def test_every_solver_refuses_shared_options_out_of_range(spec, option, value):
    flag = {"learning_rate": "--lr", "sigma": "--sigma", "sigma_final": "--sigma-final", "sigma_steps": "--sigma-steps",
            "max_iterations": "--max-iterations"}[option]
    for entry in spec.solvers:
        with pytest.raises(ValueError, match=f"{flag} must be a .*, got"):
            spec.make_solver(entry.name, **{option: value})


def test_solver_settings_must_be_finite_however_they_are_made():
    from engine.solvers.generic import GradientOptimizerParams, LeastSquaresParams

    with pytest.raises(ValueError, match="--lr"):
        GradientOptimizerParams(learning_rate=float("nan"))
    with pytest.raises(ValueError, match="damping must be a finite number"):
        LeastSquaresParams(damping=float("nan"))


def test_every_problem_declares_an_observation_size_limit(spec):
    """A documented limit, refused by the spec's own check (sessions, the app) with the limit in the message."""
    observation = spec.observation
    assert observation.max_size is not None or observation.max_items is not None
    items = observation.max_items + 1 if observation.max_items else 1
    side = observation.max_size + 1 if observation.max_size else 1
    shape = (items, *[side if isinstance(size, str) else size for size in observation.shape])
    with pytest.raises(ValueError, match="limit"):
        observation.check_limits(shape)
