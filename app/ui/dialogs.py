"""File dialogs, built once and shown on demand, the modal that shows an error and the one that asks before
unsaved runs are lost (the controller's question)."""
from __future__ import annotations

import os
from typing import Callable

import dearpygui.dearpygui as dpg

from engine.problems import registry

FILE_DIALOGS = {
    "open_session": ("Open session", (".npz",), False),
    "save_session": ("Save session", (".npz",), True),
    "export": ("Export recording", (".gif", ".mp4"), True),
}
"""name -> (title, extensions, saving): the dialogs every problem shares."""


def input_dialog(problem: str, key: str) -> str:
    return f"input.{problem}.{key}"


def observation_dialog(problem: str) -> str:
    return f"observation.{problem}"


def problem_dialogs() -> dict[str, tuple[str, tuple[str, ...], bool]]:
    """An open dialog per input and one for the observation of every registered problem (their extensions
    differ), built once beside the shared ones."""
    dialogs = {}
    for name, spec in registry.problems().items():
        for entry in spec.inputs:
            dialogs[input_dialog(name, entry.key)] = (f"Open {entry.label.lower()}", entry.extensions, False)
        dialogs[observation_dialog(name)] = ("Open observation", spec.observation_extensions, False)
    return dialogs


class Dialogs:
    def __init__(self, handlers: dict[str, Callable[[str], None]], answer: Callable[[str], None],
                 save_cancelled: Callable[[], None]):
        """answer(choice): the user's answer to the unsaved-runs question ('save', 'discard' or 'cancel');
        save_cancelled(): the save dialog closed without saving."""
        self.handlers = handlers
        self.answer = answer
        self.save_cancelled = save_cancelled
        self._replacing = ("", "")
        """(dialog, path) of a save over an existing file, while the replace question is open."""

    def build(self) -> None:
        for name, (title, extensions, saving) in {**problem_dialogs(), **FILE_DIALOGS}.items():
            with dpg.file_dialog(label=title, tag=f"dialog.{name}", show=False, modal=True, width=720, height=460,
                                 callback=self._chosen, cancel_callback=self._cancelled, user_data=name,
                                 default_path=os.getcwd(),
                                 default_filename="" if not saving else _default_name(name)):
                if len(extensions) > 1 and not saving:
                    dpg.add_file_extension("{" + ",".join(extensions) + "}", color=(250, 196, 60))
                for extension in extensions:
                    dpg.add_file_extension(extension)
                if not saving:
                    dpg.add_file_extension(".*")
        with dpg.window(label="feedbacklab", tag="error.modal", modal=True, show=False, no_resize=True,
                        width=560, pos=(320, 240)):
            dpg.add_text("", tag="error.text", wrap=530, color=(235, 120, 120))
            dpg.add_button(label="OK", width=80, callback=lambda: dpg.configure_item("error.modal", show=False))
        with dpg.window(label="Unsaved runs", tag="unsaved.modal", modal=True, show=False, no_resize=True,
                        no_close=True, width=560, pos=(320, 240)):
            dpg.add_text("", tag="unsaved.text", wrap=530)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Save session...", tag="unsaved.save", callback=self._save_first)
                dpg.add_button(label="Go on without saving", tag="unsaved.discard",
                               callback=lambda: self.answer("discard"))
                dpg.add_button(label="Cancel", tag="unsaved.cancel", callback=lambda: self.answer("cancel"))
        with dpg.window(label="Replace the file?", tag="replace.modal", modal=True, show=False, no_resize=True,
                        width=560, pos=(320, 240)):
            dpg.add_text("", tag="replace.text", wrap=530)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Replace", tag="replace.yes", callback=self._replace)
                dpg.add_button(label="Cancel", tag="replace.cancel", callback=self._keep)

    def open(self, name: str) -> None:
        dpg.show_item(f"dialog.{name}")

    def _chosen(self, sender, app_data: dict, name: str) -> None:
        path = app_data.get("file_path_name", "")
        if not path:
            return
        if FILE_DIALOGS.get(name, ("", (), False))[2] and os.path.exists(path):  # the file dialog does not ask
            self._replacing = (name, path)
            dpg.set_value("replace.text", f"{path} exists. Replace it?")
            dpg.configure_item("replace.modal", show=True)
            return
        self.handlers[name](path)

    def _replace(self) -> None:
        dpg.configure_item("replace.modal", show=False)
        name, path = self._replacing
        self.handlers[name](path)

    def _keep(self) -> None:
        dpg.configure_item("replace.modal", show=False)
        self._cancelled(None, None, self._replacing[0])

    def _cancelled(self, sender, app_data, name: str) -> None:
        if name == "save_session":
            self.save_cancelled()

    def show_question(self, text: str | None) -> bool:
        """Shows the unsaved-runs question, or hides it (None); False when it must wait a frame. One modal
        cannot open over another: an error shown gives way first (its message stays in the log and the side
        panel), and the question opens in the next frame."""
        if text is not None and dpg.is_item_shown("error.modal"):
            dpg.configure_item("error.modal", show=False)
            return False
        if text is not None:
            dpg.set_value("unsaved.text", text)
        dpg.configure_item("unsaved.modal", show=text is not None)
        return True

    def _save_first(self) -> None:
        self.answer("save")
        self.open("save_session")

    @staticmethod
    def show_error(text: str) -> None:
        dpg.set_value("error.text", text)
        dpg.configure_item("error.modal", show=True)


def _default_name(name: str) -> str:
    return {"save_session": "session", "export": "comparison"}[name]
