"""Solvers: the iteration loop (base), optimizers through differentiable renderers, and the name registry."""
