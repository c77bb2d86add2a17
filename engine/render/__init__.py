"""Forward renderers: the pyrender silhouette (ground truth) and the torch rasterizers."""
