"""Asks a top-level X11 window to close the way a window manager's close button does: a WM_DELETE_WINDOW
client message. Xvfb runs no window manager, so the tests send it themselves (libX11 through ctypes)."""
from __future__ import annotations

import ctypes
import ctypes.util
import os

_CLIENT_MESSAGE = 33  # X.h


class _ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _Event(ctypes.Union):
    _fields_ = [("client", _ClientMessage), ("pad", ctypes.c_long * 24)]


def _library() -> ctypes.CDLL:
    xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                ctypes.POINTER(ctypes.c_uint)]
    xlib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                ctypes.POINTER(_Event)]
    xlib.XFlush.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XFree.argtypes = [ctypes.c_void_p]
    return xlib


def _top_level_named(xlib: ctypes.CDLL, display: int, title: str) -> int:
    root, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    xlib.XQueryTree(display, xlib.XDefaultRootWindow(display), root, parent, children, count)
    try:
        for i in range(count.value):
            name = ctypes.c_char_p()
            if not xlib.XFetchName(display, children[i], ctypes.byref(name)):
                continue
            matches = name.value == title.encode()
            xlib.XFree(ctypes.cast(name, ctypes.c_void_p))
            if matches:
                return children[i]
    finally:
        if count.value:
            xlib.XFree(children)
    raise LookupError(f"no top-level window named {title!r} on {os.environ.get('DISPLAY')}")


def request_close(title: str) -> None:
    """Sends WM_DELETE_WINDOW to the top-level window called `title` on $DISPLAY."""
    xlib = _library()
    display = xlib.XOpenDisplay(None)
    if not display:
        raise RuntimeError("cannot open $DISPLAY")
    try:
        window = _top_level_named(xlib, display, title)
        event = _Event()
        event.client.type, event.client.window, event.client.format = _CLIENT_MESSAGE, window, 32
        event.client.message_type = xlib.XInternAtom(display, b"WM_PROTOCOLS", 0)
        event.client.data[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        xlib.XSendEvent(display, window, 0, 0, ctypes.byref(event))
        xlib.XFlush(display)
    finally:
        xlib.XCloseDisplay(display)
