"""Recently opened files, kept in the user's config directory between sessions."""
from __future__ import annotations

import json
import os
from pathlib import Path

KINDS = ("mesh", "observation", "session")
LIMIT = 10


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
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {kind: [] for kind in KINDS}
        if not isinstance(data, dict):
            data = {}
        return {kind: [str(item) for item in data.get(kind, []) if isinstance(item, str)][:LIMIT] for kind in KINDS}

    def items(self, kind: str) -> list[str]:
        return [path for path in self._entries[kind] if os.path.exists(path)]

    def add(self, kind: str, path: str) -> None:
        """Puts path first in its list and saves; a config directory that cannot be written is ignored."""
        if kind not in KINDS:
            raise ValueError(f"recent-file kind must be one of {', '.join(KINDS)}, got {kind!r}")
        path = os.path.abspath(path)
        self._entries[kind] = [path] + [item for item in self._entries[kind] if item != path][: LIMIT - 1]
        self.version += 1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self._entries, indent=1))
        except OSError:
            pass
