"""Generate ``src/talkingface/face/face_template.json``: the built-in neutral 3D face.

Its 478 vertices are the mediapipe landmarks of the real frontal photo of the test inputs
(skimage's astronaut), with the mouth closed by the landmark rig, expressed in a face frame: metres,
x to the subject's left, y up, z towards the viewer (glTF's convention), the base of the nose at the
origin, 14 cm between the cheek landmarks. The triangles and named groups are those of
``face/topology.json``.

    python scripts/make_face_template.py .cache/inputs/astronaut.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "talkingface" / "face" / "face_template.json"
FACE_WIDTH_M = 0.14


def main() -> None:
    from talkingface.animation.rig import LandmarkRig
    from talkingface.face import detect_faces
    from talkingface.media import read_image

    photo = read_image(sys.argv[1] if len(sys.argv) > 1 else ".cache/inputs/astronaut.png")
    landmarks = detect_faces(photo)[0].landmarks
    rig = LandmarkRig(landmarks)
    local = rig.neutral_local  # face widths; x to the subject's left, y down, z away from the camera
    vertices = np.stack([local[:, 0], -local[:, 1], -local[:, 2]], axis=1) * FACE_WIDTH_M
    data = {
        "units": "m",
        "source": "mediapipe landmarks of skimage astronaut.png, mouth closed",
        "vertices": np.round(vertices, 5).tolist(),
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(vertices)} vertices)")


if __name__ == "__main__":
    main()
