"""JPEG deblocking as a feedback problem (the deep feedback supplementary's Sec. 3)."""
