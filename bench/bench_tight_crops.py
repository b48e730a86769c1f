"""Faces that fill the frame: every portrait of ``../shared/data/faces`` cropped to its own landmark box
(the face alone, 224x224, as in dataset crops) and searched again.

Reports how many tight crops give a face through ``detect_faces`` (which searches again with the
image's edges extended when nothing is found) against the detector and landmark model on the crop
alone (the baseline, same run), and the median distance of the crop's landmarks from the uncropped
photo's, in pixels of the 224 px crop.

``python bench/bench_tight_crops.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
SIDE = 224


def main() -> bool:
    """True when more tight crops are found than by the detector on the crop alone."""
    if not FACES.is_dir():
        print(f"skipped: {FACES} not found")
        return True
    from talkingface.face import detect_faces
    from talkingface.face.detection import _detect
    from talkingface.media import read_image, resize_image

    found = plain = total = 0
    errors = []
    for path in sorted(FACES.iterdir()):
        image = read_image(path)
        faces = detect_faces(image, max_faces=1)
        if not faces:
            continue
        landmarks = faces[0].landmarks[:, :2]
        (x0, y0), (x1, y1) = landmarks.min(0), landmarks.max(0)
        side = max(x1 - x0, y1 - y0)
        left, top = int(max(0, (x0 + x1 - side) / 2)), int(max(0, (y0 + y1 - side) / 2))
        crop = image[top : top + int(side), left : left + int(side)]
        scale = SIDE / crop.shape[0]
        crop = resize_image(crop, SIDE, SIDE)
        total += 1
        plain += bool(_detect(crop, 1, 0.5, None))
        again = detect_faces(crop, max_faces=1)
        if again:
            found += 1
            errors.append(
                float(np.median(np.linalg.norm(again[0].landmarks[:, :2] - (landmarks - [left, top]) * scale, axis=1)))
            )
    print(
        f"tight crops of {total} portraits with a face: found {found} (the crop alone: {plain}); "
        f"landmarks {np.median(errors):.2f} px (median) from the uncropped photo's, in {SIDE} px crops"
    )
    return found > plain


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
