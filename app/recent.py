"""Recently opened files, kept in the user's config directory between sessions.

A kind is 'session', or 'PROBLEM:observation' and 'PROBLEM:INPUT' (e.g. 'pose6d:mesh'): a file is offered
again only for the problem it was opened for (file_kind)."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from engine.outputs import OutputError, write_text
from engine.problems.registry import first_app_problem

SESSION = "session"
LIMIT = 10
MAX_BYTES = 1 << 20
"""The most of recent.json that is read: a list of LIMIT paths per kind is a few kilobytes."""


def file_kind(problem: str, what: str) -> str:
    """The kind of a problem's file: what is 'observation' or an input key."""
    return f"{problem}:{what}"


def config_dir() -> Path:
    """$FEEDBACKLAB_CONFIG_DIR, else $XDG_CONFIG_HOME/feedbacklab, else ~/.config/feedbacklab."""
    explicit = os.environ.get("FEEDBACKLAB_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "feedbacklab"


class RecentFiles:
    """Most recent first, per kind; files that no longer exist are not offered. A damaged list is ignored
    (and rewritten on the next change), never an error."""

    def __init__(self, path: Path | None = None):
        self.path = path or config_dir() / "recent.json"
        self._entries = self._read()
        self.version = 0
        """Bumped by every add(), so that a menu is rebuilt only when the list changed."""

    def _read(self) -> dict[str, list[str]]:
        """The saved lists; {} for a file that is missing, not a regular file, too large, not JSON, too deeply
        nested or of the wrong shape."""
        try:
            data = json.loads(_read_regular_file(self.path, MAX_BYTES))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict):
            return {}
        first = first_app_problem()
        old_kinds = {what: file_kind(first.name, what) for what in first.first_app.recent_kinds}
        return {old_kinds.get(kind, kind): _paths(items) for kind, items in data.items()
                if isinstance(kind, str) and isinstance(items, list)}

    def items(self, kind: str) -> list[str]:
        return [path for path in self._entries.get(kind, []) if os.path.exists(path)]

    def add(self, kind: str, path: str) -> None:
        """Puts path first in its list and saves; a config directory that cannot be written is ignored."""
        if kind != SESSION and kind.count(":") != 1:
            raise ValueError(f"recent-file kind must be {SESSION!r} or 'PROBLEM:WHAT', got {kind!r}")
        path = os.path.abspath(path)
        self._entries[kind] = [path] + [item for item in self._entries.get(kind, []) if item != path][: LIMIT - 1]
        self.version += 1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text(self.path, json.dumps(self._entries, indent=1))
        except (OSError, OutputError):
            pass


def _paths(items: list[Any]) -> list[str]:
    """The strings of a saved list (anything else in it is dropped), at most LIMIT."""
    return [item for item in items if isinstance(item, str) and "\0" not in item][:LIMIT]


def _read_regular_file(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file; OSError for anything else (a FIFO, a device, a directory) or a
    larger file. Opened without blocking, so that a FIFO cannot hang the app."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data
