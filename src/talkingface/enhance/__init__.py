"""Sharper faces without flicker: GFPGAN's alignment and paste-back (:mod:`.align`)."""
