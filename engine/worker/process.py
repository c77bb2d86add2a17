"""The engine process and its client.

The engine runs in a separate (spawned) process so that pyrender's GL context, torch's threads and every
long computation stay out of the app's process: the UI thread only ever puts commands on one queue and
drains results from another. When the process dies, the client notices (`alive`) and `restart()` starts a
fresh one; replaying what was loaded is the app's job, since the app holds it.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from typing import Any

from . import protocol as p

START_TIMEOUT = 120.0
"""Seconds to wait for a new engine process to import torch and pyrender and report Ready."""
ORPHAN_CHECK_SECONDS = 1.0
"""How often an idle engine checks that the app that started it is still alive."""
ENGINE_NICENESS = 5
"""The engine process runs at a lower priority than the app's: where they compete for the cores, the window
stays smooth and the solvers wait (they run at full speed otherwise)."""
HEARTBEAT_SECONDS = 0.5
"""How often a live engine process says so: a thread of its own writes the time, busy or not."""
START_GRACE_SECONDS = 60.0
"""A new process counts as alive this long before its first heartbeat (spawning and imports)."""


def engine_threads() -> int:
    """Threads the engine may use: all cores but one, which stays with the UI."""
    return max(1, (os.cpu_count() or 2) - 1)


def _beat(heartbeat: Any) -> None:
    """Writes time.monotonic() (one clock for every process of the machine) into `heartbeat` for ever: it
    stops only with the whole process (killed, or stopped by SIGSTOP)."""
    while True:
        heartbeat.value = time.monotonic()
        time.sleep(HEARTBEAT_SECONDS)


def _serve(commands: Any, results: Any, device: str | None, threads: int, heartbeat: Any, app: int) -> None:
    """The engine process's loop: handle every pending command, then advance the run by one round. app: the pid
    of the app that started it (read there: an app that dies while this process imports torch must not leave
    it serving for ever)."""
    threading.Thread(target=_beat, args=(heartbeat,), name="feedbacklab-heartbeat", daemon=True).start()
    os.nice(ENGINE_NICENESS)
    os.environ.setdefault("LP_NUM_THREADS", str(threads))  # Mesa's llvmpipe, before any GL import
    import torch

    from ..device import default_device
    from .engine_state import EngineState

    torch.set_num_threads(threads)
    state = EngineState(results.put, torch.device(device) if device else default_device())
    results.put(state.ready())
    results.cancel_join_thread()  # exiting never waits for results nobody reads (an app that was killed)
    while os.getppid() == app:  # else the app was killed without shutting the engine down
        try:
            command = commands.get_nowait() if state.running else commands.get(timeout=ORPHAN_CHECK_SECONDS)
        except queue.Empty:
            command = None
        if isinstance(command, p.Shutdown):
            return
        if command is not None:
            state.handle(command)
            continue
        if not state.running:
            continue
        try:
            state.advance()
        except Exception as error:  # a solver blew up: report it, keep the engine alive
            state.handle(p.Cancel())
            results.put(p.Failed("Run", f"the run stopped: {type(error).__name__}: {error}"))


class EngineProcess:
    """Starts the engine process and talks to it through the worker protocol."""

    def __init__(self, device: str | None = None):
        self.device = device
        self._context = mp.get_context("spawn")
        self._process: Any = None
        self._commands: Any = None
        self._results: Any = None
        self._heartbeat: Any = None
        self.starts = 0
        """How many engine processes this client has started (1 + restarts)."""

    def start(self) -> None:
        """Starts a fresh engine process (the previous one, if any, is stopped first)."""
        self.stop()
        self._commands = self._context.Queue()
        self._results = self._context.Queue()
        # no lock: the app must be able to read it while the engine process is frozen
        self._heartbeat = self._context.RawValue("d", time.monotonic() + START_GRACE_SECONDS)
        self._process = self._context.Process(
            target=_serve, args=(self._commands, self._results, self.device, engine_threads(), self._heartbeat,
                  os.getpid()),
            name="feedbacklab-engine", daemon=True,
        )
        self._process.start()
        self.starts += 1

    restart = start

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exit_code(self) -> int | None:
        """The exit code of a process that ended on its own; None while it runs or after stop()."""
        return None if self._process is None else self._process.exitcode

    @property
    def silent_seconds(self) -> float:
        """Seconds since the running process last showed a sign of life; 0 when none runs."""
        if not self.alive:
            return 0.0
        return max(0.0, time.monotonic() - self._heartbeat.value)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def send(self, command: Any) -> None:
        if self._commands is None:
            raise RuntimeError("the engine process was not started")
        self._commands.put(command)

    def poll(self, budget_seconds: float = 0.004, max_results: int = 10_000) -> list[Any]:
        """Results that arrived, without blocking longer than about `budget_seconds`."""
        if self._results is None:
            return []
        results: list[Any] = []
        deadline = time.perf_counter() + budget_seconds
        while len(results) < max_results and time.perf_counter() < deadline:
            try:
                results.append(self._results.get_nowait())
            except queue.Empty:
                break
        return results

    def wait_for(self, kind: type, timeout: float = START_TIMEOUT) -> list[Any]:
        """Blocks until a result of `kind` arrives (for scripts and tests); returns everything received."""
        received: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = self._results.get(timeout=0.1)
            except queue.Empty:
                if not self.alive:
                    raise RuntimeError(f"the engine process exited with code {self.exit_code}") from None
                continue
            received.append(result)
            if isinstance(result, kind):
                return received
        raise TimeoutError(f"no {kind.__name__} from the engine within {timeout:.0f} s")

    def stop(self, timeout: float = 5.0) -> None:
        """Asks the engine to shut down, and kills it if it does not within `timeout`."""
        if self._process is None:
            return
        if self._process.is_alive():
            try:
                self._commands.put(p.Shutdown())
            except (ValueError, OSError):
                pass
            self._process.join(timeout)
        self.kill(timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """Ends the process at once (a frozen one does not read its commands) and closes the channels."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        for channel in (self._commands, self._results):
            channel.cancel_join_thread()
            channel.close()
        self._process = self._commands = self._results = self._heartbeat = None
