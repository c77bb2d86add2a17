"""feedbacklab's solver engine: problems, forward renderers, solvers, traces and recording."""
