"""Learned solvers' machinery: update networks, training data, stage-wise training, checkpoints."""
