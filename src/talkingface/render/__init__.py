"""Drawing frames: feature views now; photo warping and mesh rendering build on this package."""
