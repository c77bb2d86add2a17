"""Everything the app shows, as plain data: the problem (name, config, the inputs the engine confirmed), the
observation, the solvers' traces and the timeline cursor. What a problem is comes from its spec
(engine.problems); no Dear PyGui here, so that the app's logic is testable without a window.

Every change bumps `version`, so views redraw only when something changed.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from engine.bounds import SEED
from engine.demo import DEMO_MAX_ITERATIONS, DEMO_PROBLEM
from engine.problems import registry
from engine.problems.spec import CAMERA_VIEW, CENTRE, ProblemSpec, Viewpoint, config_to_dict
from engine.solvers.options import shared_bound
from engine.trace import Comparison
from engine.worker import protocol as p

from .live_trace import LiveTrace
from .rendered import DEFAULT_ORBIT, RenderedPictures

MAX_MESSAGES = 200
MAX_ITERATIONS = int(shared_bound("max_iterations").high)
"""The most iterations a run may ask of each solver (the shared option's range)."""
TEACH_PHASES = ("forward", "compare", "update")
"""The steps of one feedback iteration (Alg. 1 of Deep Feedback Inverse Problem Solver): the forward process
f(x_t), compared with the observation y, then x_t updated to x_{t+1}."""


class RunState(enum.Enum):
    IDLE = "idle"
    """No run in the engine (none yet, finished, or cancelled)."""
    RUNNING = "running"
    PAUSED = "paused"


@dataclass
class InputInfo:
    """An input the engine loaded (InputLoaded): what the side panel shows and what restores it."""

    key: str
    name: str
    description: str
    arrays: dict[str, np.ndarray]
    path: str | None = None


@dataclass
class ObservationInfo:
    observation: np.ndarray
    """(*item shape) float32, as the problem's spec.observation describes."""
    ground_truth: np.ndarray | None
    source: str


@dataclass
class RunSettings:
    """What the user chose in the side panel: the solvers to compare and their shared options."""

    solvers: list[str] = field(default_factory=lambda: list(registry.get_problem(DEMO_PROBLEM).default_solvers))
    max_iterations: int = DEMO_MAX_ITERATIONS
    learning_rate: float | None = None
    """None: each optimizer's default."""
    seed: int = 0
    """Seed of the next random observation."""

    @classmethod
    def from_dict(cls, values: dict[str, Any], spec: ProblemSpec) -> "RunSettings":
        """Saved settings, checked: ValueError naming a setting of the wrong type or out of range, or a solver
        the problem does not offer."""
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown run setting(s) {', '.join(map(str, unknown))}")
        solvers = values.get("solvers", list(spec.default_solvers))
        if not isinstance(solvers, list) or not all(isinstance(name, str) for name in solvers):
            raise ValueError(f"solvers must be a list of solver names, got {solvers!r}")
        rate = values.get("learning_rate")
        if rate is not None:
            shared_bound("learning_rate").check("learning_rate", rate)
        return cls(spec.parse_solvers(",".join(solvers)),
                   shared_bound("max_iterations").check("max_iterations",
                                                        values.get("max_iterations", DEMO_MAX_ITERATIONS)),
                   None if rate is None else float(rate), SEED.check("seed", values.get("seed", 0)))

    def solver_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_iterations": self.max_iterations}
        if self.learning_rate is not None:
            options["learning_rate"] = self.learning_rate
        return options


@dataclass
class Message:
    text: str
    error: bool = False


NO_OBSERVATION = "no observation yet: make a new observation or open one"


@dataclass
class Question:
    """Computed iterations no session holds would be lost: the user chooses to save them first, to go on
    without them, or to cancel (Controller.answer)."""

    text: str
    then: Callable[[], None]
    """What the user asked for, done once answered (after the save, when saving first)."""


def default_config(problem: str) -> dict[str, Any]:
    """The problem's default config as the engine reports it (config_to_dict)."""
    spec = registry.get_problem(problem)
    return config_to_dict(spec.config())


@dataclass
class AppState:
    settings: RunSettings = field(default_factory=RunSettings)
    problem: str = DEMO_PROBLEM
    """The problem the engine holds (the engine starts with the demo problem)."""
    config: dict[str, Any] = field(default_factory=lambda: default_config(DEMO_PROBLEM))
    inputs: dict[str, InputInfo] = field(default_factory=dict)
    """Input key -> what the engine loaded; a key not here is the problem's built-in default."""
    problems: tuple[str, ...] = ()
    """The problems the engine offers (Ready)."""
    observation: ObservationInfo | None = None
    traces: dict[str, LiveTrace] = field(default_factory=dict)
    x0: np.ndarray | None = None
    run_state: RunState = RunState.IDLE
    cursor: int = 0
    focus: tuple[float, float] = CENTRE
    """Where the mouse points in the columns' pictures, (x, y) fractions of the image (Panel.follows_cursor)."""
    orbit: bool = False
    """The rendered panels are seen from the orbit (orbit_view), not from the problem's camera."""
    orbit_view: Viewpoint = DEFAULT_ORBIT
    """The orbit, as the user turned it last (it stays when the view goes back to the camera)."""
    rendered: RenderedPictures = field(default_factory=RenderedPictures)
    """The rendered panels' pictures the engine drew, and the requests it has not answered."""
    follow: bool = True
    """The cursor moves to the newest iteration as results arrive."""
    playing: bool = False
    """The cursor plays through stored iterations (replay, not recomputation)."""
    teach_solver: str | None = None
    teach_phase: int = 0
    """Index into TEACH_PHASES."""
    energy_slice: p.EnergySliceReady | None = None
    lesson: p.LessonReady | None = None
    """The problem's lesson of learning its energy, trained on the current observation (Learn tab)."""
    lesson_step: int = 0
    lesson_pending: bool = False
    """The engine is training the lesson."""
    export_progress: tuple[int, int] | None = None
    engine_device: str = ""
    engine_ready: bool = False
    engine_stopped: str = ""
    """Why the engine stopped and was not restarted ('' while it runs or restarts): Restart engine starts it."""
    question: Question | None = None
    """Asked before unsaved runs are dropped; None when nothing is asked."""
    messages: list[Message] = field(default_factory=list)
    """The last MAX_MESSAGES messages."""
    messages_said: int = 0
    """Messages said so far, including those no longer kept."""
    version: int = 0
    work_version: int = 0
    """Counts changes to the traces (a run started, an iteration arrived, a session opened)."""
    saved_work_version: int = 0
    """work_version when the traces were last saved to or opened from a session."""

    # --- reading ---

    @property
    def spec(self) -> ProblemSpec:
        return registry.get_problem(self.problem)

    @property
    def viewpoint(self) -> Viewpoint:
        """Where the rendered panels are seen from now."""
        return self.orbit_view if self.orbit else CAMERA_VIEW

    @property
    def timeline_length(self) -> int:
        """Positions on the shared timeline: the longest trace so far."""
        return max((len(trace) for trace in self.traces.values()), default=0)

    @property
    def all_finished(self) -> bool:
        return bool(self.traces) and all(trace.finished for trace in self.traces.values())

    @property
    def iterations_computed(self) -> int:
        return sum(len(trace) for trace in self.traces.values())

    @property
    def unsaved_work(self) -> bool:
        """Computed iterations that no saved session holds: quitting now would lose them."""
        return self.iterations_computed > 0 and self.work_version != self.saved_work_version

    def unsaved_text(self) -> str:
        """The unsaved work in words: '12 iterations of 2 solver runs are'."""
        runs = len([trace for trace in self.traces.values() if len(trace)])
        return f"{self.iterations_computed} iterations of {runs} solver run{'s' * (runs > 1)} are"

    def mark_saved(self) -> None:
        """The traces as they are now are in a session file."""
        self.saved_work_version = self.work_version

    @property
    def last_message(self) -> Message | None:
        return self.messages[-1] if self.messages else None

    def comparison(self) -> Comparison:
        """The observation and every solver's iterations so far as an engine Comparison (batch of one), for
        recording and sessions; x0 is zeros before any run."""
        if self.observation is None:
            raise ValueError(NO_OBSERVATION)
        storage = self.spec.observation
        traces = {name: trace.to_trace(storage) for name, trace in self.traces.items() if len(trace)}
        x0 = self.x0 if self.x0 is not None else np.zeros(self.spec.x_dimension(self.observation.observation.shape),
                                                                   dtype=np.float32)
        truth = self.observation.ground_truth
        return Comparison(self.problem, self.observation.observation[None], np.asarray(x0)[None], traces,
                          None if truth is None else truth[None], self.spec.parameter_names, dict(self.config),
                          meta={"inputs": {key: info.name for key, info in self.inputs.items()},
                                "observation": self.observation.source})

    # --- changing ---

    def changed(self) -> None:
        self.version += 1

    def say(self, text: str, error: bool = False) -> None:
        self.messages.append(Message(text, error))
        del self.messages[:-MAX_MESSAGES]
        self.messages_said += 1
        self.changed()

    def messages_since(self, said: int) -> list[Message]:
        """The messages said after the first `said` of them, as far as they are kept."""
        return self.messages[len(self.messages) - min(self.messages_said - said, len(self.messages)):]

    def clear_run(self) -> None:
        """Forget the traces (a new problem, or reset), and the rendered pictures (they may show other inputs)."""
        self.traces = {}
        self.rendered.clear()
        self.work_version += 1
        self.x0 = None
        self.cursor = 0
        self.follow = True
        self.playing = False
        self.teach_phase = 0
        self.energy_slice = None
        self.run_state = RunState.IDLE
        self.changed()

    def set_cursor(self, t: int, follow: bool | None = None) -> None:
        """Moves the cursor to t, clamped to the timeline."""
        self.cursor = int(min(max(t, 0), max(self.timeline_length - 1, 0)))
        if follow is not None:
            self.follow = follow
        self.changed()

    def apply(self, result: Any) -> None:
        """Takes one result from the engine into the state."""
        handler = getattr(self, f"_on_{type(result).__name__}", None)
        if handler is None:
            raise TypeError(f"the app does not handle engine results of type {type(result).__name__}")
        handler(result)
        self.changed()

    def _on_Ready(self, result: p.Ready) -> None:
        self.rendered.forget_requests()  # a new engine process: what the old one was asked is lost
        self.engine_ready = True
        self.engine_device = result.device
        self.problems = result.problems

    def _on_ProblemChanged(self, result: p.ProblemChanged) -> None:
        """The engine stopped any run and kept only what fits: so does the app (nothing stale on screen)."""
        switched = result.name != self.problem
        self.clear_run()
        self.forget_lesson()
        self.problem, self.config = result.name, dict(result.config)
        self.inputs = {key: info for key, info in self.inputs.items() if key in result.inputs_kept}
        if not result.observation_kept:
            self.observation = None
        if switched:
            offered = [entry.name for entry in self.spec.solvers]
            self.settings.solvers = [name for name in self.settings.solvers if name in offered] or list(
                self.spec.default_solvers)
            self.teach_solver = None
            self.say(f"problem {result.name}: {self.spec.title}")
        else:
            self.say(f"problem {result.name}: settings changed")

    def _on_InputLoaded(self, result: p.InputLoaded) -> None:
        self.clear_run()
        self.inputs[result.key] = InputInfo(result.key, result.name, result.description, result.arrays, result.path)
        if not result.observation_kept:
            self.observation = None
        self.say(result.description)

    def _on_ObservationReady(self, result: p.ObservationReady) -> None:
        """The traces belong to the observation they were computed on: a new one drops them (the engine stopped
        their run), so that no view shows, and no session pairs, traces of another observation."""
        if self.traces or self.x0 is not None:
            self.clear_run()
        self.forget_lesson()
        self.observation = ObservationInfo(result.observation, result.ground_truth, result.source)
        shape = "x".join(str(size) for size in result.observation.shape)
        self.say(f"observation {shape} from {result.source}")

    def _on_RunStarted(self, result: p.RunStarted) -> None:
        self.traces = {name: LiveTrace(name, result.settings.get(name, {})) for name in result.solvers}
        self.work_version += 1
        self.x0 = result.x0
        self.cursor = 0
        self.energy_slice = None
        if self.teach_solver not in self.traces:
            self.teach_solver = result.solvers[0]
        if self.run_state != RunState.PAUSED:
            self.run_state = RunState.RUNNING

    def _on_IterationDone(self, result: p.IterationDone) -> None:
        trace = self.traces.get(result.solver)
        if trace is None:  # a late record of a run the app already dropped
            return
        trace.append(result)
        self.work_version += 1
        if self.follow:
            self.cursor = self.timeline_length - 1

    def _on_SolverFailed(self, result: p.SolverFailed) -> None:
        trace = self.traces.get(result.solver)
        if trace is not None:
            trace.finished, trace.error = True, result.message
        self.say(result.message, error=True)

    def _on_RunFinished(self, result: p.RunFinished) -> None:
        self.run_state = RunState.IDLE
        if result.cancelled:
            self.say(f"run cancelled at iteration {self.timeline_length - 1}")
        elif self.traces:
            steps = ", ".join(f"{name} {trace.last_index}" for name, trace in self.traces.items())
            self.say(f"run finished; steps: {steps}")

    def _on_EnergySliceReady(self, result: p.EnergySliceReady) -> None:
        self.energy_slice = result

    def _on_LessonReady(self, result: p.LessonReady) -> None:
        self.lesson, self.lesson_step, self.lesson_pending = result, 0, False
        self.say(f"lesson trained: {', '.join(result.frames)}, {result.steps} steps each")

    def forget_lesson(self) -> None:
        """A new problem, config or observation: the lesson trained on the old one no longer applies."""
        self.lesson, self.lesson_step = None, 0

    def _on_PanelRendered(self, result: p.PanelRendered) -> None:
        failure = self.rendered.take(result)
        if failure is not None:
            self.say(failure, error=True)

    def _on_ExportProgress(self, result: p.ExportProgress) -> None:
        self.export_progress = (result.done, result.total)

    def _on_ExportFinished(self, result: p.ExportFinished) -> None:
        self.export_progress = None
        self.say(f"wrote {result.path} ({result.frames} frames)")

    def _on_Failed(self, result: p.Failed) -> None:
        if result.command == "Learn":
            self.lesson_pending = False
        if result.command == "Export":
            self.export_progress = None
        if result.command == "Run":
            self.run_state = RunState.IDLE
        self.say(result.message, error=True)
