"""Chooses the headless OpenGL platform (EGL or OSMesa) before pyrender or PyOpenGL is imported.

PyOpenGL reads PYOPENGL_PLATFORM once, when OpenGL.platform is first imported, so the choice must be made
before anything imports pyrender. Import pyrender through `import_pyrender()` to get that order right.

Order of precedence: FEEDBACKLAB_GL (egl | osmesa) forces a backend; else an already-set PYOPENGL_PLATFORM is
respected; else EGL when it can create a context (probed once in a subprocess, since a broken driver can
crash or hang the process), else OSMesa.
"""
from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
import threading
from types import ModuleType

FORCE_ENV = "FEEDBACKLAB_GL"
"""Environment variable that forces a backend: egl or osmesa."""
VALID_PLATFORMS = ("egl", "osmesa")
_LIBRARIES = {"egl": "EGL", "osmesa": "OSMesa"}
_INSTALL_HINT = (
    "install libegl1 libegl-mesa0 libgl1-mesa-dri (EGL) or libosmesa6 (OSMesa), e.g. with `bash scripts/setup.sh`"
)
EGL_PROBE_TIMEOUT_S = 10.0

_lock = threading.Lock()
_chosen: str | None = None


class RendererUnavailable(RuntimeError):
    """No usable headless OpenGL platform (or an unusable choice was forced)."""


# Mirrors what pyrender's EGLPlatform does (first EGL device, pbuffer config, OpenGL 4.1 core context),
# written against libEGL with ctypes so the probe does not pay for importing PyOpenGL.
_EGL_PROBE = r"""
import ctypes, ctypes.util, sys
lib = ctypes.util.find_library("EGL")
if lib is None:
    sys.exit("libEGL not found")
egl = ctypes.CDLL(lib)
vp, i32 = ctypes.c_void_p, ctypes.c_int32
egl.eglGetProcAddress.restype = vp
egl.eglGetProcAddress.argtypes = [ctypes.c_char_p]
egl.eglGetDisplay.restype = vp
egl.eglGetDisplay.argtypes = [vp]
egl.eglInitialize.argtypes = [vp, ctypes.POINTER(i32), ctypes.POINTER(i32)]
egl.eglChooseConfig.argtypes = [vp, ctypes.POINTER(i32), ctypes.POINTER(vp), i32, ctypes.POINTER(i32)]
egl.eglBindAPI.argtypes = [ctypes.c_uint32]
egl.eglCreateContext.restype = vp
egl.eglCreateContext.argtypes = [vp, vp, vp, ctypes.POINTER(i32)]
egl.eglMakeCurrent.argtypes = [vp, vp, vp, vp]
egl.eglDestroyContext.argtypes = [vp, vp]
egl.eglTerminate.argtypes = [vp]

display = None
query_devices = egl.eglGetProcAddress(b"eglQueryDevicesEXT")
platform_display = egl.eglGetProcAddress(b"eglGetPlatformDisplayEXT")
if query_devices and platform_display:
    query = ctypes.CFUNCTYPE(ctypes.c_uint32, i32, ctypes.POINTER(vp), ctypes.POINTER(i32))(query_devices)
    get_display = ctypes.CFUNCTYPE(vp, ctypes.c_uint32, vp, ctypes.POINTER(i32))(platform_display)
    devices, count = (vp * 16)(), i32(0)
    if not query(16, devices, ctypes.byref(count)) or count.value < 1:
        sys.exit("eglQueryDevicesEXT found no EGL device")
    display = get_display(0x313F, devices[0], None)  # EGL_PLATFORM_DEVICE_EXT
else:
    display = egl.eglGetDisplay(None)
if not display:
    sys.exit("no EGL display")
major, minor = i32(0), i32(0)
if not egl.eglInitialize(display, ctypes.byref(major), ctypes.byref(minor)):
    sys.exit("eglInitialize failed")
config_attributes = (i32 * 17)(0x3033, 0x1, 0x3022, 8, 0x3024, 8, 0x3023, 8, 0x3025, 24, 0x303F, 0x308E,
                               0x3040, 0x8, 0x3042, 0x8, 0x3038)
config, n_configs = vp(), i32(0)
if not egl.eglChooseConfig(display, config_attributes, ctypes.byref(config), 1, ctypes.byref(n_configs)) \
        or n_configs.value < 1:
    sys.exit("eglChooseConfig found no OpenGL pbuffer config")
if not egl.eglBindAPI(0x30A2):
    sys.exit("eglBindAPI(EGL_OPENGL_API) failed")
context_attributes = (i32 * 7)(0x3098, 4, 0x30FB, 1, 0x30FD, 0x1, 0x3038)
context = egl.eglCreateContext(display, config, None, context_attributes)
if not context:
    sys.exit("eglCreateContext (OpenGL 4.1 core) failed")
if not egl.eglMakeCurrent(display, None, None, context):
    sys.exit("eglMakeCurrent failed")
egl.eglMakeCurrent(display, None, None, None)
egl.eglDestroyContext(display, context)
egl.eglTerminate(display)
print("ok")
"""


def _library_present(platform: str) -> bool:
    return ctypes.util.find_library(_LIBRARIES[platform]) is not None


def probe_egl(timeout_s: float = EGL_PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Tries to create an EGL OpenGL context in a subprocess; returns (worked, reason when it did not)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}  # pyrender ignores DISPLAY for EGL too
    try:
        result = subprocess.run(
            [sys.executable, "-c", _EGL_PROBE], env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return False, f"EGL probe timed out after {timeout_s:.0f} s"
    except OSError as error:
        return False, f"EGL probe could not start: {error}"
    if result.returncode == 0 and result.stdout.strip().endswith("ok"):
        return True, ""
    reason = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
    return False, f"EGL probe failed: {reason}"


def _loaded_opengl_platform() -> str | None:
    """The platform PyOpenGL already loaded in this process ('egl', 'osmesa', 'glx', ...), or None."""
    module = sys.modules.get("OpenGL.platform")
    platform = getattr(module, "PLATFORM", None)
    if platform is None:
        return None
    return type(platform).__module__.rsplit(".", 1)[-1]


def _decide() -> str:
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    if forced:
        if forced not in VALID_PLATFORMS:
            raise RendererUnavailable(
                f"{FORCE_ENV}={os.environ[FORCE_ENV]!r} is not a headless OpenGL backend; "
                f"use one of {', '.join(VALID_PLATFORMS)} (or unset it to choose automatically)"
            )
        if not _library_present(forced):
            raise RendererUnavailable(
                f"{FORCE_ENV}={forced} but lib{_LIBRARIES[forced]} was not found: {_INSTALL_HINT}"
            )
        return forced

    preset = os.environ.get("PYOPENGL_PLATFORM", "").strip()
    if preset:
        if preset.lower() in VALID_PLATFORMS and not _library_present(preset.lower()):
            raise RendererUnavailable(
                f"PYOPENGL_PLATFORM={preset} but lib{_LIBRARIES[preset.lower()]} was not found: {_INSTALL_HINT}"
            )
        return preset

    has_egl, has_osmesa = _library_present("egl"), _library_present("osmesa")
    if has_egl and has_osmesa:
        worked, _ = probe_egl()
        return "egl" if worked else "osmesa"
    if has_egl:
        return "egl"
    if has_osmesa:
        return "osmesa"
    raise RendererUnavailable(f"no headless OpenGL found: {_INSTALL_HINT}")


def select_gl_platform() -> str:
    """The headless OpenGL platform for this process ('egl' or 'osmesa'), chosen once and exported as
    PYOPENGL_PLATFORM. Raises RendererUnavailable when none works or OpenGL was already loaded with another."""
    global _chosen
    with _lock:
        if _chosen is None:
            choice = _decide()
            loaded = _loaded_opengl_platform()
            if loaded is not None and loaded != choice.lower():
                raise RendererUnavailable(
                    f"PyOpenGL was already imported with the {loaded!r} platform but {choice!r} is needed; "
                    "import engine.render (or set PYOPENGL_PLATFORM) before anything imports OpenGL or pyrender"
                )
            os.environ["PYOPENGL_PLATFORM"] = choice
            _chosen = choice
        return _chosen


def import_pyrender() -> ModuleType:
    """pyrender, imported only after the OpenGL platform has been chosen."""
    select_gl_platform()
    import pyrender

    return pyrender


def delete_offscreen_renderer(offscreen) -> None:
    """Frees a pyrender.OffscreenRenderer's GL objects and context, on the thread that made it. Unlike
    OffscreenRenderer.delete it never calls eglTerminate: every EGL context of a process shares one display,
    and terminating it broke the other live renderers (their eglDestroyContext then failed with
    EGL_NOT_INITIALIZED)."""
    platform = offscreen._platform
    platform.make_current()
    offscreen._renderer.delete()
    if getattr(platform, "_egl_context", None) is not None:
        from OpenGL import EGL

        EGL.eglMakeCurrent(platform._egl_display, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        EGL.eglDestroyContext(platform._egl_display, platform._egl_context)
        platform._egl_context = platform._egl_display = None
    else:
        platform.delete_context()
    offscreen._renderer = offscreen._platform = None
