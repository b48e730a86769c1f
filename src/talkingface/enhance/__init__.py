"""Sharper faces without flicker: GFPGAN's alignment and paste-back (:mod:`.align`), its steadying
over time (:mod:`.temporal`), the mouth canvas of the mouth upscaler (:mod:`.mouth`), and the
enhancers that stream a video's frames through either (:mod:`.video`)."""
