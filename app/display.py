"""Whether a window can open here. Dear PyGui's GLFW aborts the whole process when the X display cannot be
opened, so the display is tried first with Xlib itself."""
from __future__ import annotations

import ctypes
import ctypes.util
import os


def display_problem() -> str | None:
    """None when an X11 display can be opened, else why not (one line)."""
    name = os.environ.get("DISPLAY")
    if not name:
        return "no display (DISPLAY is unset)"
    library = ctypes.util.find_library("X11")
    if library is None:
        return "the X11 client library (libX11) is missing; run `bash scripts/setup.sh`"
    xlib = ctypes.CDLL(library)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return f"cannot open the display {name!r} (DISPLAY is set, but no X server answers there)"
    xlib.XCloseDisplay(handle)
    return None
