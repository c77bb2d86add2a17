"""Human body models: the default SMPL-format body, smplx loading of SMPL-family files, poses and rendering."""
