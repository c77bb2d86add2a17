"""File dialogs, built once and shown on demand, and the modal that shows an error."""
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
    def __init__(self, handlers: dict[str, Callable[[str], None]], quit_now: Callable[[], None]):
        self.handlers = handlers
        self.quit_now = quit_now
        self.quit_after_save = False
        """The quit question was answered with "Save session...": quit once that save succeeds."""
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
        with dpg.window(label="Quit feedbacklab?", tag="quit.modal", modal=True, show=False, no_resize=True,
                        width=560, pos=(320, 240)):
            dpg.add_text("", tag="quit.text", wrap=530)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Save session...", tag="quit.save", callback=self._save_then_quit)
                dpg.add_button(label="Quit without saving", tag="quit.discard", callback=lambda: self.quit_now())
                dpg.add_button(label="Cancel", tag="quit.cancel",
                               callback=lambda: dpg.configure_item("quit.modal", show=False))
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
            self.quit_after_save = False

    def ask_quit(self, unsaved: str) -> None:
        """Asks whether to save `unsaved` (a description of the work) before quitting."""
        dpg.set_value("quit.text", f"{unsaved} not saved in a session. Save before quitting?")
        dpg.configure_item("quit.modal", show=True)

    def _save_then_quit(self) -> None:
        dpg.configure_item("quit.modal", show=False)
        self.quit_after_save = True
        self.open("save_session")

    @staticmethod
    def show_error(text: str) -> None:
        dpg.set_value("error.text", text)
        dpg.configure_item("error.modal", show=True)


def _default_name(name: str) -> str:
    return {"save_session": "session", "export": "comparison"}[name]
