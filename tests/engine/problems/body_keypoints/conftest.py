TINY_FITTER = dict(samples=32, validation_samples=8, epochs=1, batch_size=16, hidden=16, layers=1,
                   initialiser_hidden=16, iterations=2)


def train_tiny_fitter(out_dir, solver: str = "lf", **overrides):
    """A tiny body-keypoints fitter checkpoint trained by the real trainer (engine.learn.train)."""
    from engine.learn.fitter_network import fitter_class
    from engine.learn.fitter_training import FITTER_KINDS, FitterTask, FitterTrainConfig
    from engine.learn.train import train
    from engine.problems.body_keypoints import SPEC
    from engine.problems.body_keypoints.training import make_set, training_meta

    settings = {**FITTER_KINDS[solver][1], **TINY_FITTER, **overrides}
    task = FitterTask(FitterTrainConfig(**settings), solver, fitter_class(SPEC.name), SPEC.parameters, make_set,
                      training_meta())
    return train(task, str(out_dir), log=lambda message: None)

