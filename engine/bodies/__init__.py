"""Human body models: the default SMPL-format body, smplx loading of SMPL-family files, poses and rendering."""
from ..bounds import Bound

BETA_LIMIT = 5.0
"""Shape coefficients are in standard deviations of the body shapes the model was made from: beyond +-5 a body is
no longer human-like (at 1e6 it leaves the picture)."""
BETAS = Bound(-BETA_LIMIT, BETA_LIMIT)
