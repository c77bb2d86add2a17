import pytest

from engine.problems.pose6d import Pose6DConfig, Pose6DProblem
from engine.problems.pose6d.bench import sample_pose_problems
from engine.problems.pose6d.softras_optimizer import SoftRasParams
from engine.problems.registry import get_problem
from engine.procedural import default_mesh, split_objects
from engine.solvers.base import Status


def spied_sigmas(monkeypatch) -> list[float]:
    """The sigma of every differentiable render from now on, in order."""
    seen: list[float] = []
    render = Pose6DProblem.forward_differentiable

    def spy(self, x, rasterizer="nmr", **options):
        seen.append(options["sigma"])
        return render(self, x, rasterizer, **options)

    monkeypatch.setattr(Pose6DProblem, "forward_differentiable", spy)
    return seen


def run_softras(name="softras", **options):
    problem = Pose6DProblem.for_meshes(default_mesh(), 1, Pose6DConfig(image_size=32))
    truth = problem.initial_estimate()
    truth[0, 4] = 0.05
    solver = get_problem("pose6d").make_solver(name, **{"patience": 0, **options})
    return list(solver.iterate(problem, problem.forward(truth), problem.initial_estimate(), truth))


@pytest.mark.parametrize("name", ["softras", "softras-lbfgs"])
def test_sigma_falls_geometrically_and_the_records_show_it(monkeypatch, name):
    seen = spied_sigmas(monkeypatch)
    records = run_softras(name, sigma=1e-4, sigma_final=1e-6, sigma_steps=4, max_iterations=6)
    expected = [1e-4, 10 ** -4.5, 1e-5, 10 ** -5.5, 1e-6, 1e-6, 1e-6]
    assert seen == pytest.approx(expected, rel=1e-6)
    assert [float(record.info["sigma"][0]) for record in records] == pytest.approx(expected, rel=1e-6)


def test_default_schedule_and_fixed_sigma():
    params = SoftRasParams()
    assert params.sigma_at(0) == pytest.approx(1e-3) and params.sigma_at(100 // 3) == pytest.approx(1e-4, rel=0.1)
    assert params.sigma_at(100) == pytest.approx(1e-6) and params.sigma_at(400) == pytest.approx(1e-6)
    assert SoftRasParams(sigma_steps=0).sigma_at(0) == pytest.approx(1e-6)
    records = run_softras(sigma=1e-4, sigma_final=1e-4, max_iterations=3)
    assert [float(record.info["sigma"][0]) for record in records] == [pytest.approx(1e-4)] * 4


def test_no_item_stops_before_its_schedule_ends():
    records = run_softras(sigma_steps=10, patience=2, max_iterations=100)
    assert records[-1].status.tolist() == [Status.CONVERGED] and records[-1].index >= 10 + 2


def test_feedback_chain_uses_the_schedule():
    second = get_problem("pose6d").make_solver("feedback+softras", sigma_steps=10).second
    assert second.forward_options(5)["sigma"] == pytest.approx(10 ** -4.5)


@pytest.mark.parametrize("options, message", [
    ({"sigma": 0.0}, "--sigma must be a finite number from 1e-07 to 0.1, got 0"),
    ({"sigma": -1e-4}, "--sigma must be"),
    ({"sigma_final": 0.0}, "--sigma-final must be"),
    ({"sigma_steps": -1}, "--sigma-steps must be a whole number"),
    ({"sigma": 1e-5, "sigma_final": 1e-4}, "--sigma-final 0.0001 is above --sigma 1e-05"),
    ({"sigma": 1e-7}, "--sigma-final 1e-06 is above --sigma 1e-07"),
])
def test_bad_schedules_give_one_line_errors(options, message):
    for make in (lambda: get_problem("pose6d").make_solver("softras", **options), lambda: SoftRasParams(**options)):
        with pytest.raises(ValueError) as error:
            make()
        assert message in str(error.value) and "\n" not in str(error.value)


def test_schedule_ends_nearer_the_true_translation_than_fixed_sigma():
    """At a fixed sigma the blurred silhouette is larger than the hard observation, so SoftRas puts the object
    too far away; sharpening over the iterations removes most of that bias (same problems, same start)."""
    meshes = [obj.build() for obj in split_objects("test")[:3]]
    problem, truth, observation = sample_pose_problems(meshes, 3, seed=0, config=Pose6DConfig(image_size=64))
    errors = {}
    for label, options in (("fixed", {"sigma": 1e-4, "sigma_final": 1e-4}), ("scheduled", {})):
        solver = get_problem("pose6d").make_solver("softras", max_iterations=150, **options)
        errors[label] = solver.solve(problem, observation, problem.initial_estimate(), truth).metrics[
            "translation_error"]
    assert errors["fixed"].mean() > 0.05
    assert errors["scheduled"].mean() < 0.4 * errors["fixed"].mean()
