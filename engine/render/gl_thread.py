"""A thread that owns a GL context: every pyrender call of a renderer runs on it, because a GL context belongs to
the thread that made it. And the content key renderers cache uploaded meshes by."""
from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any, Callable

import numpy as np

STOP_TIMEOUT_S = 10.0


class GLThread:
    """One daemon thread that runs submitted calls in order; whatever GL context they create stays on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: SimpleQueue = SimpleQueue()
        self._lock = threading.Lock()
        self._stopped = False
        # The target must not reference the renderer, or the renderer could never be garbage collected.
        self._thread = threading.Thread(target=_serve, args=(self._jobs,), name=name, daemon=True)
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Runs fn(*args) on the thread and returns its result; its exception is re-raised here."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        future: Future = Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"{self.name} is closed; create a new renderer")
            self._jobs.put((fn, args, future))
        return future.result()

    def stop(self, last: Callable[[], Any] | None = None) -> None:
        """Runs `last` on the thread (after every job already queued), then ends the thread. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            future: Future = Future()
            if last is not None:
                self._jobs.put((last, (), future))
            self._jobs.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(STOP_TIMEOUT_S)
            if last is not None and future.done():
                future.result()  # re-raise a failure of `last`


def _serve(jobs: SimpleQueue) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        fn, args, future = job
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(fn(*args))
        except BaseException as error:  # handed to the caller, which re-raises it
            future.set_exception(error)


def content_key(array: np.ndarray) -> bytes:
    """A digest of a contiguous array's bytes, shape and dtype (sha1: the fastest hashlib digest measured)."""
    digest = hashlib.sha1(memoryview(array).cast("B"), usedforsecurity=False)
    digest.update(repr((array.dtype.str, array.shape)).encode())
    return digest.digest()


def start_scene(renderer: str, platform: str, scene: Callable[..., Any], *args: Any) -> tuple[GLThread, Any]:
    """A new GL thread for a renderer and its scene, scene(*args) made on that thread; RendererUnavailable naming
    the fix when no OpenGL context can be made there."""
    from .gl_backend import RendererUnavailable

    thread = GLThread(f"{renderer}[{platform}]")
    try:
        return thread, thread.call(scene, *args)
    except Exception as error:
        thread.stop()
        raise RendererUnavailable(
            f"could not create a {platform} OpenGL context ({type(error).__name__}: {error}); "
            "try FEEDBACKLAB_GL=osmesa, or install the GL libraries with `bash scripts/setup.sh`"
        ) from error
