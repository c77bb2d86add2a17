import pytest

TINY_FITTER = dict(samples=24, validation_samples=4, epochs=1, batch_size=12, hidden=16, layers=1,
                   initialiser_hidden=16, iterations=2)


def train_tiny_fitter(out_dir, solver: str = "lf", **overrides) -> str:
    """A tiny body-hmd fitter checkpoint trained by the real trainer (engine.learn.train)."""
    from engine.learn.fitter_network import fitter_class
    from engine.learn.fitter_training import FITTER_KINDS, FitterTask, FitterTrainConfig
    from engine.learn.train import train
    from engine.problems.body_hmd import SPEC
    from engine.problems.body_hmd.training import make_set, training_meta

    settings = {**FITTER_KINDS[solver][1], **TINY_FITTER, **overrides}
    task = FitterTask(FitterTrainConfig(**settings), solver, fitter_class(SPEC.name), SPEC.parameters, make_set,
                      training_meta())
    return train(task, str(out_dir), log=lambda message: None)


@pytest.fixture(scope="package")
def tiny_lf(tmp_path_factory) -> str:
    """A folder holding a tiny body-hmd-lf.safetensors, as --checkpoint-dir."""
    folder = tmp_path_factory.mktemp("body-hmd-checkpoints")
    train_tiny_fitter(folder)
    return str(folder)
