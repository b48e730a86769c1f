"""Data sets: the VOCASET/BIWI mesh layouts and the synthetic talking-face set."""
