"""The Learn tab: for a problem whose energy is learned through its minima (spec.lesson), train the lesson on the
current observation and scrub its training steps, the picture drawn by the problem's lesson.draw."""
from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from engine.problems.registry import problems

from ..state import AppState
from .textures import BLANK, TexturePool

PICTURE_WIDTH = 1000
DIM = (150, 150, 150)


class LearnPanel:
    def __init__(self, on_train: Callable[[], None], on_step: Callable[[int], None], textures: TexturePool):
        self.on_train, self.on_step, self.textures = on_train, on_step, textures
        self._drawn: tuple | None = None
        """(lesson, step, observation) last drawn, compared by identity."""
        self._version = -1

    def build(self, parent: int | str) -> None:
        with dpg.group(parent=parent):
            with dpg.group(horizontal=True):
                dpg.add_text("", tag="learn.title", color=(232, 232, 232))
                with dpg.tooltip("learn.title"):
                    dpg.add_text("", tag="learn.explanation", wrap=500)
                dpg.add_text("(?)", color=DIM)
                dpg.add_button(label="Train", tag="learn.train", callback=lambda: self.on_train())
                dpg.add_button(label="<", tag="learn.back", callback=lambda: self._step(-1))
                dpg.add_button(label=">", tag="learn.forward", callback=lambda: self._step(1))
                dpg.add_slider_int(tag="learn.step", width=300, min_value=0, max_value=0,
                                   callback=lambda s, v: self.on_step(v))
                dpg.add_text("", tag="learn.status", color=DIM)
            dpg.add_image(BLANK, tag="learn.picture", show=False)

    def _step(self, delta: int) -> None:
        self.on_step(int(dpg.get_value("learn.step")) + delta)

    def refresh(self, state: AppState) -> None:
        if state.version == self._version:
            return
        self._version = state.version
        lesson_spec = state.spec.lesson
        dpg.set_value("learn.title", lesson_spec.title if lesson_spec else "No lesson for this problem")
        teaching = ", ".join(name for name, spec in problems().items() if spec.lesson is not None)
        dpg.set_value("learn.explanation", lesson_spec.explanation if lesson_spec else
                      f"{state.spec.title}: its energy is not learned here. The problems that learn theirs "
                      f"({teaching}) teach it in this tab.")
        for item in ("learn.train", "learn.back", "learn.forward", "learn.step"):
            dpg.configure_item(item, enabled=lesson_spec is not None and not state.lesson_pending)
        lesson = state.lesson
        if lesson is None:
            dpg.set_value("learn.status", "training..." if state.lesson_pending else
                          "press Train to learn the energy on the current observation" if lesson_spec else "")
            dpg.configure_item("learn.picture", show=False)
            self._drawn = None
            return
        dpg.configure_item("learn.step", max_value=lesson.steps - 1)
        dpg.set_value("learn.step", state.lesson_step)
        dpg.set_value("learn.status", f"training step {state.lesson_step} of {lesson.steps - 1}"
                      + ("  (training again...)" if state.lesson_pending else ""))
        key = (lesson, state.lesson_step, state.observation)
        if self._drawn is not None and all(a is b for a, b in zip(self._drawn, key)):
            return
        self._drawn = key
        if state.observation is None or lesson_spec is None:
            return
        picture = lesson_spec.draw(lesson.frames, state.lesson_step, state.observation.observation,
                                   state.observation.ground_truth)
        self.textures.show("learn.picture", "learn", picture, PICTURE_WIDTH)
