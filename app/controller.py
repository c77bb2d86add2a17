"""What the user's actions do: commands to the engine, changes to the state; and the engine's results and
health, checked once per frame by poll()."""
from __future__ import annotations

import collections
import copy
import math
import time
from typing import Any, Callable

import numpy as np

from engine.problems.spec import Viewpoint, config_from_dict, config_to_dict
from engine.worker import protocol as p
from engine.worker.process import EngineProcess

from .recent import SESSION, RecentFiles, file_kind
from .rendered import Key, picture_key, turned
from .session import Session, SessionError, load_session, save_session
from .state import NO_OBSERVATION, TEACH_PHASES, AppState, Question, RunState

MAX_QUICK_RESTARTS = 3
QUICK_RESTART_WINDOW = 60.0
"""An engine that dies this many times within this many seconds is not restarted again."""
RESTORES = {"SetProblem": "ProblemChanged", "SetInput": "InputLoaded", "LoadInput": "InputLoaded",
            "SetObservation": "ObservationReady"}
"""Command -> the result that confirms it, for the commands that give the engine back what the app holds."""
SILENCE_LIMIT = 8.0
"""An engine process without a sign of life for this many seconds is frozen (stopped, or hung in a call that
holds its interpreter): it is killed and a restart is offered."""
WORK = ("problem", "config", "inputs", "observation", "settings", "traces", "x0")
"""What a session holds of the app's state (with the cursor)."""
PLAY_SPEED = 20.0
"""Timeline positions per second when replaying stored iterations."""
PREFETCH = 8
"""Unless a run is computing, rendered panels are drawn ahead this many timeline positions either side of the
cursor, nearest first, so that stepping through them finds them drawn."""
LIVE_RENDER_SECONDS = 0.25
"""While the cursor follows a computing run, rendered panels are asked for at most this often: the engine draws
them between the solvers' rounds, with time the solvers would use ..."""
LIVE_RENDER_SHARE = 0.25
"""... and for at most about this share of the time: the next ask waits at least 1 / LIVE_RENDER_SHARE times as long
as the engine took to answer the last (a face rendered in 0.5 s would otherwise hold back every iteration)."""


class Controller:
    def __init__(self, engine: EngineProcess | None = None, state: AppState | None = None,
                 recent: RecentFiles | None = None):
        self.engine = engine or EngineProcess()
        self.state = state or AppState()
        self.recent = recent or RecentFiles()
        self.slice_axes: tuple[str, str] | None = None
        """SliceAxis keys of the next energy slice; None: the problem's first two."""
        self._restoring: collections.deque[tuple[Any, bool]] = collections.deque()
        """(command, stale): commands sent only to give the engine what the app already shows (after a restart
        or opening a session), oldest first; their confirmations are not applied again. Stale ones belong to a
        session given up: whatever answers them is dropped."""
        self._before_session: AppState | None = None
        """What the app held before the session being restored: taken back if the engine refuses a part."""
        self._after_save: Callable[[], None] | None = None
        """What the user asked for, to do once the save chosen in answer to a question succeeds."""
        self._deaths: list[float] = []
        self._last_tick = time.perf_counter()
        self._play_position = 0.0
        self.run_on_next_observation = False
        """Start a run as soon as the next observation arrives (the demo)."""
        self._orbit_from: Viewpoint | None = None
        """The orbit's viewpoint when a drag over a rendered picture began; None when no drag turns it."""
        self._rendered_asked_at = -math.inf
        self._rendered_answer_seconds = 0.0
        """How long the engine took to answer the last request for rendered panels."""
        self._rendered_waiting = False

    # --- engine lifecycle ---

    def start(self) -> None:
        self.engine.start()

    def close(self) -> None:
        self.engine.stop()

    @property
    def restoring(self) -> bool:
        """The engine is being given back what the app holds."""
        return bool(self._restoring)

    def poll(self, budget_seconds: float = 0.004) -> None:
        """Once per frame: notice a dead or frozen engine, take the results that arrived, move the playback
        cursor."""
        if not self.state.engine_stopped:
            if self.engine.exit_code is not None:  # started and exited without being stopped
                self._engine_died()
            elif self.engine.silent_seconds > SILENCE_LIMIT:
                self._engine_frozen()
        for result in self.engine.poll(budget_seconds):
            self._take(result)
        self._tick_playback()
        self._request_rendered()

    def _send(self, command: Any) -> bool:
        """Sends the command; False (and a message) when there is no engine to take it."""
        state = self.state
        if state.engine_stopped:
            state.say(f"the engine is stopped ({state.engine_stopped}); press Restart engine (Run menu or side "
                      "panel) to start it again", error=True)
            return False
        if not self.engine.alive:
            state.say("the engine is starting again; try again in a moment", error=True)
            return False
        self.engine.send(command)
        return True

    def restart_engine(self) -> None:
        """A fresh engine process, given the problem, its inputs and the observation the app holds."""
        self._deaths.clear()
        self.state.engine_stopped = ""
        self.state.engine_ready = False
        self._new_engine_process()
        self.state.say("restarted the engine with the problem, its inputs and the observation")

    def _engine_stopped(self, why: str, message: str) -> None:
        """The engine is not restarted on its own: the state says why, and Restart engine is offered."""
        state = self.state
        state.engine_ready = False
        state.run_state = RunState.IDLE
        state.export_progress = None
        state.engine_stopped = why
        state.say(f"{message}; the computed iterations stay. Save your session, or press Restart engine", error=True)

    def _engine_frozen(self) -> None:
        self.engine.kill()
        self._engine_stopped(f"it did not answer for {SILENCE_LIMIT:.0f} s",
                             f"the engine does not answer (no sign of life for {SILENCE_LIMIT:.0f} s); stopped it")

    def _engine_died(self) -> None:
        code = self.engine.exit_code
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < QUICK_RESTART_WINDOW] + [now]
        state = self.state
        state.engine_ready = False
        state.run_state = RunState.IDLE
        state.export_progress = None
        if len(self._deaths) > MAX_QUICK_RESTARTS:
            self.engine.stop()
            self._engine_stopped(f"it died {len(self._deaths)} times within a minute, exit code {code}",
                                 f"the engine died {len(self._deaths)} times within a minute (exit code {code}); not "
                                 "restarting it on its own (start the app from a terminal to see why)")
            return
        state.say(f"the engine stopped unexpectedly (exit code {code}); restarted it with the problem, its "
                  "inputs and the observation; the run stopped where it was", error=True)
        self._new_engine_process()

    def _new_engine_process(self) -> None:
        """A fresh process (nothing in flight any more), given what the app holds."""
        self.engine.restart()
        self._restoring.clear()
        self._restore()

    def _restore(self) -> None:
        """Gives the (new) engine the problem, inputs and observation the app holds; their confirmations only
        restore what the app already shows, so they are not applied again."""
        state = self.state
        if state.engine_stopped:  # Restart engine restores it
            return
        commands: list[Any] = [p.SetProblem(state.problem, state.config)]
        entries = {entry.key: entry for entry in state.spec.inputs}
        for key, info in state.inputs.items():
            if entries[key].from_arrays is not None:
                commands.append(p.SetInput(key, info.name, info.arrays))
            else:  # the problem cannot take it as arrays: read its file again (or its default)
                commands.append(p.LoadInput(key, info.path))
        if state.observation is not None:
            commands.append(p.SetObservation(state.observation.observation, state.observation.ground_truth,
                                             state.observation.source))
        for command in commands:
            self._restoring.append((command, False))
            self.engine.send(command)

    def _restored(self, result: Any) -> bool:
        """Takes a result that answers the oldest restoring command; True when it only confirms it."""
        if not self._restoring:
            return False
        command, stale = self._restoring[0]
        name = type(command).__name__
        if not (type(result).__name__ == RESTORES[name] or (isinstance(result, p.Failed) and result.command == name)):
            return False
        self._restoring.popleft()
        if isinstance(result, p.Failed) and not stale:
            self._not_restored(command, result.message)
            return True
        if not self._restoring:
            self._before_session = None
        self.state.changed()
        return True

    def _not_restored(self, command: Any, message: str) -> None:
        """The engine refused what the app holds: the app takes back what it had before the session (and gives
        it to the engine again), or, after a restart, forgets what the engine does not hold."""
        state, before = self.state, self._before_session
        if before is not None:
            self._before_session = None
            self._hold(before)
            self._restoring = collections.deque((pending, True) for pending, _ in self._restoring)
            self._restore()
            state.say(f"the engine refused the session ({message}); kept what was open before", error=True)
            return
        if isinstance(command, (p.SetInput, p.LoadInput)):
            state.inputs.pop(command.key, None)
        elif isinstance(command, p.SetObservation):
            state.clear_run()
            state.observation = None
        state.say(f"the restarted engine refused what the app held ({message}); it uses its default", error=True)

    def _take(self, result: Any) -> None:
        state = self.state
        if self._restored(result):
            return
        if isinstance(result, p.InputLoaded) and result.path:
            self.recent.add(file_kind(state.problem, result.key), result.path)
        state.apply(result)
        if isinstance(result, p.ProblemChanged):
            self.slice_axes = None
        if isinstance(result, p.ObservationReady) and result.path:
            self.recent.add(file_kind(state.problem, "observation"), result.path)
        if isinstance(result, p.ObservationReady) and self.run_on_next_observation:
            self.run_on_next_observation = False
            self.run()

    # --- unsaved runs ---

    def unless_unsaved(self, doing: str, then: Callable[[], None]) -> None:
        """Does `then` now or, when computed iterations that no session holds would be lost, asks first
        (state.question, answered by answer())."""
        state = self.state
        if not state.unsaved_work:
            then()
            return
        state.question = Question(f"{state.unsaved_text()} not saved in a session. Save before {doing}?", then)
        state.changed()

    def answer(self, choice: str) -> None:
        """The user's answer to state.question: 'save' (the view opens the save dialog; what was asked for
        follows a successful save), 'discard' (go on without saving) or 'cancel'."""
        if choice not in ("save", "discard", "cancel"):
            raise ValueError(f"answer 'save', 'discard' or 'cancel', not {choice!r}")
        state = self.state
        question, state.question = state.question, None
        state.changed()
        if question is None:
            return
        if choice == "discard":
            question.then()
        elif choice == "save":
            self._after_save = question.then

    def save_cancelled(self) -> None:
        """The save dialog was closed without saving: what waited for the save is not done."""
        self._after_save = None

    # --- problem ---

    def set_problem(self, name: str) -> None:
        """Switch the engine to another problem, with its default config; the app follows on ProblemChanged."""
        if name != self.state.problem:
            self.unless_unsaved("switching problem", lambda: self._send(p.SetProblem(name, {})))

    def set_config(self, name: str, value: Any) -> None:
        """Change one config field of the current problem; a value the config refuses is a message."""
        state = self.state
        try:
            config = config_from_dict(state.spec.config, {**state.config, name: value})
        except ValueError as error:
            state.say(str(error), error=True)
            return
        self.unless_unsaved("changing the settings", lambda: self._send(p.SetProblem(state.problem,
                                                                                     config_to_dict(config))))

    def load_input(self, key: str, text: str | None) -> None:
        """One of the problem's inputs from a file or name, or its built-in default (None)."""
        self.unless_unsaved("opening another input", lambda: self._send(p.LoadInput(key, text)))

    def load_default_inputs(self) -> None:
        keys = [entry.key for entry in self.state.spec.inputs]
        self.unless_unsaved("going back to the built-in inputs",
                            lambda: [self._send(p.LoadInput(key, None)) for key in keys])

    def open_observation(self, path: str) -> None:
        self.unless_unsaved("opening another observation", lambda: self._send(p.LoadObservation(path)))

    def new_observation(self, ground_truth: tuple[float, ...] | None = None) -> None:
        """An observation made by the problem's forward process at `ground_truth`, or at one drawn by the
        problem's sampler (the seed then moves on)."""
        self.unless_unsaved("making a new observation", lambda: self._new_observation(ground_truth))

    def _new_observation(self, ground_truth: tuple[float, ...] | None) -> None:
        settings = self.state.settings
        if self._send(p.NewObservation(ground_truth, settings.seed)) and ground_truth is None:
            settings.seed += 1

    def observation_from_text(self, text: str) -> None:
        """An observation at a ground truth typed by the user (read by the problem's parse_x)."""
        state = self.state
        spec = state.spec
        try:
            x = spec.parse_x(text, config_from_dict(spec.config, state.config))
        except ValueError as error:
            state.say(" ".join(str(error).split()), error=True)
            return
        if x.ndim != 2 or x.shape[0] != 1:
            state.say(f"type one estimate ({spec.x_hint or len(spec.parameter_names)} values), not {x.shape[0]}",
                      error=True)
            return
        self.new_observation(tuple(float(v) for v in x[0]))

    # --- running and stepping ---

    def run(self) -> None:
        """Computes: resumes a paused run, or starts a new one with the chosen solvers."""
        state = self.state
        state.playing = False
        if state.run_state == RunState.PAUSED:
            if not self._send(p.Resume()):
                return
            state.run_state = RunState.RUNNING
            state.set_cursor(state.timeline_length - 1, follow=True)
            return
        self._start_run(paused=False)

    def _start_run(self, paused: bool) -> bool:
        state = self.state
        if not state.settings.solvers:
            state.say("choose at least one solver", error=True)
            return False
        if state.observation is None:
            state.say(NO_OBSERVATION, error=True)
            return False
        if not self._send(p.Run(tuple(state.settings.solvers), state.settings.solver_options(), paused=paused)):
            return False
        state.run_state = RunState.PAUSED if paused else RunState.RUNNING
        state.follow = True
        state.changed()
        return True

    def pause(self) -> None:
        state = self.state
        state.playing = False
        if state.run_state == RunState.RUNNING and self._send(p.Pause()):
            state.run_state = RunState.PAUSED
        state.changed()

    def cancel(self) -> None:
        if self.state.run_state != RunState.IDLE:
            self._send(p.Cancel())

    def reset(self) -> None:
        """Stops any run and forgets its traces; the problem, its inputs and the observation stay."""
        self.cancel()
        self.state.clear_run()

    def step_forward(self) -> None:
        """One iteration on: from the stored trace when it is there, else computed by the engine."""
        state = self.state
        state.playing = False
        if state.cursor < state.timeline_length - 1:
            state.set_cursor(state.cursor + 1, follow=False)
        elif state.run_state == RunState.RUNNING:
            self.pause()
        elif state.run_state == RunState.PAUSED:
            self._send(p.Advance())
            state.follow = True
        elif not state.traces and self._start_run(paused=True):
            self._send(p.Advance())

    def step_back(self) -> None:
        """One iteration back, from the stored trace (no recomputation)."""
        state = self.state
        state.playing = False
        state.set_cursor(state.cursor - 1, follow=False)

    def scrub(self, t: int) -> None:
        """Moves every column to timeline position t (finished solvers hold their last iteration)."""
        state = self.state
        state.playing = False
        state.set_cursor(t, follow=t >= state.timeline_length - 1 and state.run_state == RunState.RUNNING)

    def point_at(self, focus: tuple[float, float] | None) -> None:
        """The panels that follow the cursor look where the mouse points (None: it points at no picture, and
        they stay where they were)."""
        if focus is not None and focus != self.state.focus:
            self.state.focus = focus
            self.state.changed()

    # --- rendered panels ---

    def _request_rendered(self) -> None:
        """Asks the engine for the rendered panels of every solver at the cursor that it has not drawn, all at once
        and only when it has answered the requests before, so that it never draws positions long scrubbed past;
        when those are all drawn and no run computes, for the positions around the cursor."""
        state = self.state
        now = time.perf_counter()
        if self._rendered_waiting and not state.rendered.in_flight:
            self._rendered_waiting, self._rendered_answer_seconds = False, now - self._rendered_asked_at
        live = state.run_state == RunState.RUNNING and state.follow
        gap = max(LIVE_RENDER_SECONDS, self._rendered_answer_seconds / LIVE_RENDER_SHARE)
        if (not state.spec.rendered_panels or state.observation is None or state.rendered.in_flight
                or not state.engine_ready or state.engine_stopped or not self.engine.alive
                or (live and now - self._rendered_asked_at < gap)):
            return
        near = [] if state.run_state == RunState.RUNNING else [
            t for step in range(1, PREFETCH + 1) for t in (state.cursor + step, state.cursor - step)
            if 0 <= t < state.timeline_length]
        truth = state.observation.ground_truth
        for t in [state.cursor, *near]:
            wanted = self._rendered_missing(t)
            for panel, x in wanted.values():
                self.engine.send(state.rendered.request(panel, x, truth, state.viewpoint))
            if wanted:
                self._rendered_asked_at, self._rendered_waiting = now, True
                return

    def _rendered_missing(self, t: int) -> dict[Key, tuple[str, np.ndarray]]:
        """The rendered panels at timeline position t that are neither drawn nor asked for (solvers at the same
        estimate share one): key -> (panel key, estimate)."""
        state = self.state
        truth = state.observation.ground_truth
        missing = {}
        for trace in state.traces.values():
            if not len(trace):
                continue
            x = trace.at(t).x
            for panel in state.spec.rendered_panels:
                key = picture_key(panel.key, x, truth, state.viewpoint)
                if state.rendered.wants(key):
                    missing[key] = (panel.key, x)
        return missing

    def set_orbit(self, orbit: bool) -> None:
        """The rendered panels from the orbit the user turns, or from the problem's camera."""
        self.state.orbit = orbit
        self.state.changed()

    def begin_orbit(self) -> None:
        """The mouse went down on a rendered picture: in orbit view, dragging it now turns the orbit."""
        if self.state.orbit:
            self._orbit_from = self.state.orbit_view

    def drag_orbit(self, dx: float, dy: float) -> None:
        """The mouse moved (dx, dy) pixels since the drag began (rendered.turned)."""
        if self._orbit_from is not None:
            self.state.orbit_view = turned(self._orbit_from, dx, dy)
            self.state.changed()

    def end_orbit(self) -> None:
        self._orbit_from = None

    def toggle_playback(self) -> None:
        """Replays the stored iterations from the cursor (from the start when at the end)."""
        state = self.state
        if state.playing:
            state.playing = False
        elif state.timeline_length > 1:
            if state.cursor >= state.timeline_length - 1:
                state.set_cursor(0)
            state.playing, state.follow = True, False
            self._play_position = float(state.cursor)
        state.changed()

    def _tick_playback(self) -> None:
        now = time.perf_counter()
        elapsed, self._last_tick = now - self._last_tick, now
        state = self.state
        if not state.playing:
            return
        self._play_position += elapsed * PLAY_SPEED
        state.set_cursor(int(self._play_position))
        if state.cursor >= state.timeline_length - 1:
            state.playing = False

    # --- teaching ---

    def teach_step(self) -> None:
        """The next phase of the selected solver's loop: forward, compare, update, then the next iteration."""
        state = self.state
        state.teach_phase += 1
        if state.teach_phase == len(TEACH_PHASES):
            state.teach_phase = 0
            self.step_forward()
        state.changed()

    def learn(self) -> None:
        """Trains the problem's lesson on the current observation (the Learn tab)."""
        state = self.state
        if state.spec.lesson is None:
            state.say(f"problem {state.problem} learns no energy, so it has no lesson", error=True)
        elif state.observation is None:
            state.say("no observation yet: make one (Random) first; the lesson draws its energy", error=True)
        elif not state.lesson_pending and self._send(p.Learn()):
            state.lesson_pending = True
            state.say(f"training the lesson ({state.spec.lesson.steps} steps per run)...")

    def lesson_step(self, step: int) -> None:
        state = self.state
        if state.lesson is not None:
            state.lesson_step = max(0, min(step, state.lesson.steps - 1))
            state.changed()

    def compute_energy_slice(self) -> None:
        """The energy around the selected solver's estimate at the cursor, over self.slice_axes (default spans
        from the problem's SliceAxis entries)."""
        state = self.state
        spec = state.spec
        if len(spec.slice_axes) < 2:
            state.say(f"problem {spec.name} has no energy slice (it needs two slice axes)", error=True)
            return
        trace = state.traces.get(state.teach_solver or "")
        if trace is None or not len(trace):
            state.say("run a solver first: the slice is taken around its current estimate", error=True)
            return
        keys = self.slice_axes or (spec.slice_axes[0].key, spec.slice_axes[1].key)
        try:
            axes = (spec.slice_axis(keys[0]), spec.slice_axis(keys[1]))
        except ValueError as error:
            state.say(str(error), error=True)
            return
        center = trace.at(state.cursor).x
        self._send(p.EnergySlice(tuple(float(v) for v in center), keys, (axes[0].span, axes[1].span)))

    # --- files ---

    def export(self, path: str, fps: int = 10, max_frames: int = 120) -> None:
        """Records the comparison as on screen to a .gif or .mp4 (in the engine, with progress)."""
        if not any(len(trace) for trace in self.state.traces.values()):
            self.state.say("nothing to record yet: run at least one solver", error=True)
            return
        comparison = self.state.comparison()
        self.state.export_progress = (0, 1)
        self._send(p.Export(comparison, path, fps, max_frames))

    def save_session(self, path: str) -> None:
        """Saves the session; then does what waited for the save (answer('save'))."""
        then, self._after_save = self._after_save, None
        try:
            save_session(path, self.state)
        except SessionError as error:
            self.state.say(str(error), error=True)
            return
        self.state.mark_saved()
        self.recent.add(SESSION, path)
        self.state.say(f"saved session {path}")
        if then is not None:
            then()

    def open_session(self, path: str) -> None:
        """Opens a session once it is checked whole (load_session); what the app had stays when it is refused."""
        try:
            session = load_session(path)
        except SessionError as error:
            self.state.say(str(error), error=True)
            return
        self.unless_unsaved("opening a session", lambda: self._open_session(session, path))

    def _open_session(self, session: Session, path: str) -> None:
        self.cancel()
        self._before_session = copy.copy(self.state)
        self._hold(session)
        self.state.mark_saved()
        self._restore()
        self.recent.add(SESSION, path)
        self.state.say(f"opened session {path}")

    def _hold(self, work: Session | AppState) -> None:
        """Shows `work` (an opened session, or what the app held before one): the problem, its inputs, the
        observation, the run settings and traces, the cursor; how much of it is saved comes with it."""
        state = self.state
        state.clear_run()
        for name in WORK:
            setattr(state, name, getattr(work, name))
        if isinstance(work, AppState):
            state.work_version, state.saved_work_version = work.work_version, work.saved_work_version
        state.teach_solver = next(iter(work.traces), None)
        state.set_cursor(work.cursor, follow=False)
        self.slice_axes = None
