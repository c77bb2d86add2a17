"""Every file the project writes goes through here: checked before any work (extension, directory, an existing
file only when the user passed --force) and written atomically, into a temporary file beside the target that is
renamed onto it once complete. A failed write (a full disk, Ctrl-C) leaves what was there untouched."""
from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

LOCK_NAME = ".lock"
"""The file a directory lock holds (directory_lock)."""


class OutputError(ValueError):
    """An output that cannot be written; one line naming the file and what to do."""


def check_output(path: str | None, extensions: tuple[str, ...], flag: str | None = None, force: bool = False) -> None:
    """Fails before any work when `path` cannot be written: a wrong extension, a missing or read-only directory,
    a directory in its place, or an existing file without `force`. None: no output asked for."""
    if path is None:
        return
    label = _label(path, flag)
    if not path.lower().endswith(extensions):
        raise OutputError(f"{label}: choose a file ending in {' or '.join(extensions)}")
    if os.path.isdir(path):
        raise OutputError(f"{label}: is a directory; give a file name inside it")
    _check_writable_directory(os.path.dirname(os.path.abspath(path)), label)
    check_new(path, flag, force)


def check_new(path: str, flag: str | None = None, force: bool = False) -> None:
    """Refuses to replace an existing file unless `force`."""
    if os.path.lexists(path) and not force:
        raise OutputError(f"{_label(path, flag)}: the file exists; pass --force to overwrite it, or choose "
                          "another name")


def check_output_directory(path: str, flag: str | None = None) -> None:
    """Fails before any work unless `path` is a writable directory or can be made as one."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if existing == os.path.abspath(path) and not os.path.isdir(existing):
        raise OutputError(f"{_label(path, flag)}: is a file, not a directory; choose a directory")
    _check_writable_directory(existing, _label(path, flag))


def _label(path: str, flag: str | None) -> str:
    return f"{flag} {path}" if flag else path


def _check_writable_directory(directory: str, label: str) -> None:
    if not os.path.isdir(directory):
        raise OutputError(f"{label}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{label}: directory {directory} is not writable; choose another place")


def unused_name(path: str) -> str:
    """path when no file has that name, else the first free of NAME-1.EXT, NAME-2.EXT, ..."""
    stem, extension = os.path.splitext(path)
    candidates = itertools.chain([path], (f"{stem}-{n}{extension}" for n in itertools.count(1)))
    return next(candidate for candidate in candidates if not os.path.lexists(candidate))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """A temporary path beside `path`, with the same extension (writers pick their format from it), for the
    caller to write; when the block ends it replaces `path` with the permissions of any new file (0666 less the
    umask). When the block fails the temporary file is removed and `path` is untouched; an OSError becomes an
    OutputError naming `path`."""
    target = os.fspath(path)
    try:
        temporary, mode = _create_temporary(target)
    except OSError as error:
        raise _write_error(target, error) from None
    try:
        yield temporary
        os.chmod(temporary, mode)  # some writers (safetensors) replace the file with one of their own, mode 0600
        _sync(temporary)
        os.replace(temporary, target)
    except BaseException as error:  # Ctrl-C too: never leave a partial file behind
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, OSError):
            raise _write_error(target, error) from None
        raise
    with contextlib.suppress(OSError):  # the rename is durable once the directory is; not all file systems can
        _sync(os.path.dirname(os.path.abspath(target)))


def _create_temporary(target: str) -> tuple[str, int]:
    """A new, empty file of a name unique to this process and attempt, and the mode new files get."""
    directory, name = os.path.split(os.path.abspath(target))
    extension = os.path.splitext(name)[1]
    while True:
        temporary = os.path.join(directory, f".{name}.{os.getpid()}-{secrets.token_hex(4)}.partial{extension}")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            return temporary, os.fstat(descriptor).st_mode & 0o777
        finally:
            os.close(descriptor)


def _sync(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_error(target: str, error: OSError) -> OutputError:
    reason = error.strerror or " ".join(str(error).split()) or type(error).__name__
    kept = "the file that was there is unchanged" if os.path.exists(target) else "nothing was written"
    return OutputError(f"{target}: could not be written ({reason}); {kept}; free some space or choose another place")


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes text atomically (atomic_path)."""
    with atomic_path(path) as temporary:
        Path(temporary).write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Writes data as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=2))


@contextlib.contextmanager
def directory_lock(directory: str | os.PathLike) -> Iterator[None]:
    """Holds an exclusive lock on `directory` (an flock on DIRECTORY/.lock) for the block, so that a second
    process writing there fails at once instead of overwriting the first one's files. The kernel releases the
    lock when the process ends, so a crash leaves no stale lock."""
    path = os.path.join(os.fspath(directory), LOCK_NAME)
    try:
        handle = open(path, "a")
    except OSError as error:
        raise _write_error(path, error) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"{os.fspath(directory)}: another feedbacklab process is writing to this directory "
                              f"(it holds {path}); wait for it to finish or choose another directory") from None
        yield
