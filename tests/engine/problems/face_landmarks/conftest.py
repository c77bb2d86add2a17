import functools

import pytest
import torch

from .synthetic_face import SyntheticFace

TINY_FITTER = dict(samples=24, validation_samples=4, epochs=1, batch_size=12, hidden=16, layers=1,
                   initialiser_hidden=16, iterations=2)


@pytest.fixture(scope="package")
def face() -> SyntheticFace:
    """A tiny face model in float64 (the problem's precision with the shipped face)."""
    return SyntheticFace(dtype=torch.float64)


@pytest.fixture(scope="package")
def instances(face):
    """instances(batch, seed=0, **config) -> (problem, truth, observation) on the tiny face."""
    from engine.problems.face_landmarks.problem import FaceLandmarksConfig, make_problem

    def make(batch: int, seed: int = 0, **config):
        problem = make_problem(FaceLandmarksConfig(**config), batch, model=face)
        truth = problem.sample_ground_truth(torch.Generator().manual_seed(seed))
        return problem, truth, problem.forward(truth)
    return make


def train_tiny_fitter(out_dir, model, solver: str = "lf") -> str:
    """A tiny face-landmarks fitter checkpoint on `model`, trained by the real trainer (engine.learn.train)."""
    from engine.learn.fitter_network import fitter_class
    from engine.learn.fitter_training import FITTER_KINDS, FitterTask, FitterTrainConfig
    from engine.learn.train import train
    from engine.problems.face_landmarks.problem import parameter_groups
    from engine.problems.face_landmarks.training import make_set, training_meta

    task = FitterTask(FitterTrainConfig(**{**FITTER_KINDS[solver][1], **TINY_FITTER}), solver,
                      fitter_class("face-landmarks"), parameter_groups(model), functools.partial(make_set, model=model),
                      training_meta())
    return train(task, str(out_dir), log=lambda message: None)
