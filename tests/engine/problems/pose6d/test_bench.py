from engine.problems.pose6d import Pose6DProblem
from engine.problems.pose6d.bench import step_timings
from engine.problems.registry import get_problem
from engine.render.softras import DEFAULT_SIGMA


def test_softras_steps_are_timed_at_one_sigma(monkeypatch):
    """A SoftRas step costs more the softer it is, so the speed benchmark times it at one fixed sigma, not along
    the optimizers' schedule."""
    seen = []
    render = Pose6DProblem.forward_differentiable

    def spy(self, x, rasterizer="nmr", **options):
        seen.append(options.get("sigma"))
        return render(self, x, rasterizer, **options)

    monkeypatch.setattr(Pose6DProblem, "forward_differentiable", spy)
    timings = step_timings(get_problem("pose6d"), ["softras"], [(100, 32)], steps=2, warmup=1, rounds=1)
    assert [t.solver for t in timings] == ["softras"] and timings[0].ms_per_step > 0
    assert seen and set(seen) == {DEFAULT_SIGMA}
