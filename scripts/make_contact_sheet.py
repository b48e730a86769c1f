"""Make the README's contact sheet: face crops of a talking-photo video at chosen moments.

python scripts/make_contact_sheet.py out/demo.mp4 docs/talking_photo.png
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

from talkingface.media import VideoReader

# Moments (seconds) of 'it was the best of times, it was the worst of times' in the demo speech.
MOMENTS = (0.6, 1.30, 1.50, 1.85, 2.45, 2.62, 3.70, 4.40)
CROP = (slice(60, 210), slice(150, 300))  # the face in the 512x512 photo


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    reader = VideoReader(source)
    fps = float(reader.info.fps)
    wanted = {int(round(t * fps)): t for t in MOMENTS}
    tiles = []
    for index, frame in enumerate(reader):
        if index in wanted:
            tile = cv2.resize(frame[CROP], (300, 300), interpolation=cv2.INTER_CUBIC)
            cv2.putText(
                tile, f"{wanted[index]:.2f} s", (8, 290), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA
            )
            tiles.append(tile)
        if index > max(wanted):
            break
    rows = [np.concatenate(tiles[k : k + 4], axis=1) for k in range(0, len(tiles), 4)]
    cv2.imwrite(target, np.concatenate(rows, axis=0)[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"contact sheet: {target}")


if __name__ == "__main__":
    main()
