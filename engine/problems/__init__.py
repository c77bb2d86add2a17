"""Inverse problems: parameterisation, forward process, ground-truth sampler, energy and metrics, one module each."""
