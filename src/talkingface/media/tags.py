"""Container tags that mark a file as synthetic media, written into every video the toolkit makes."""

from __future__ import annotations

SYNTHETIC_TAGS = {
    "comment": "Synthetic media: the face was animated from speech by talkingface.",
    "synthetic": "true",
    "generator": "talkingface",
}
