"""Whether a window can open here, and the screen's size. Dear PyGui's GLFW aborts the whole process when the X
display cannot be opened, and gives no screen size before its window exists, so both are asked of Xlib itself."""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from typing import Iterator

FALLBACK_WINDOW = (1280, 800)
"""The window's size when the screen's is unknown."""
LARGEST_WINDOW = (1440, 920)
"""The default window grows with the screen up to this size: every pixel costs drawing time under software
OpenGL, and the app's columns, plots and side panel fit in it."""
SCREEN_MARGIN = (40, 80)
"""Left free of the screen (width, height): window frame, title bar and desktop panels."""


class _NoDisplay(Exception):
    """Why no X11 display could be opened (one line)."""


@contextlib.contextmanager
def _display() -> Iterator[tuple[ctypes.CDLL, int]]:
    """(libX11, display handle) of $DISPLAY, closed afterwards; _NoDisplay saying why not."""
    name = os.environ.get("DISPLAY")
    if not name:
        raise _NoDisplay("no display (DISPLAY is unset)")
    library = ctypes.util.find_library("X11")
    if library is None:
        raise _NoDisplay("the X11 client library (libX11) is missing; run `bash scripts/setup.sh`")
    xlib = ctypes.CDLL(library)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        raise _NoDisplay(f"cannot open the display {name!r} (DISPLAY is set, but no X server answers there)")
    try:
        yield xlib, handle
    finally:
        xlib.XCloseDisplay(handle)


def display_problem() -> str | None:
    """None when an X11 display can be opened, else why not (one line)."""
    try:
        with _display():
            return None
    except _NoDisplay as reason:
        return str(reason)


def screen_size() -> tuple[int, int] | None:
    """(width, height) in pixels of the default screen of $DISPLAY; None when there is none."""
    try:
        with _display() as (xlib, handle):
            xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
            for function in (xlib.XDisplayWidth, xlib.XDisplayHeight):
                function.argtypes = [ctypes.c_void_p, ctypes.c_int]
            screen = xlib.XDefaultScreen(handle)
            return int(xlib.XDisplayWidth(handle, screen)), int(xlib.XDisplayHeight(handle, screen))
    except _NoDisplay:
        return None


def default_window(screen: tuple[int, int] | None) -> tuple[int, int]:
    """The window's default size on a screen of this size: the screen less its margin, at most LARGEST_WINDOW,
    never past the screen's edge (FALLBACK_WINDOW when the screen is unknown)."""
    if screen is None or min(screen) <= 0:
        return FALLBACK_WINDOW
    return tuple(max(1, min(largest, side - margin))  # type: ignore[return-value]
                 for largest, side, margin in zip(LARGEST_WINDOW, screen, SCREEN_MARGIN))
