"""Reconstruction variables computed from :class:`darkscan.detector.base.RecoEvents`."""
