"""The talking photo's drawn mouth against its photo's own light, on three portraits of
``../shared/data/faces``: a bright photo, a dark side-lit one and a painting.

Each portrait's rig opens the mouth (the JALI "Ah" pose at jaw openings 0.25-1) and every frame is
measured with :func:`talkingface.metrics.look.mouth_look`: the interior darker than the skin around it,
the teeth no brighter than the skin's brightest 5%, no rim colour more vivid than the face's own.
Baseline in the same run: the same drawing without the skin's light (the interior's fixed colours).

``python bench/bench_photo_look.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
PORTRAITS = {
    "bright": "sadtalker__art_0.png",
    "dark, side-lit": "sadtalker__art_18.png",
    "painted": "sadtalker__art_17.png",
}
OPENINGS = (0.25, 0.5, 0.75, 1.0)


def measure(name: str, lit: bool) -> list[dict]:
    from talkingface.animation.rig import LandmarkRig
    from talkingface.face import detect_faces
    from talkingface.media import read_image
    from talkingface.metrics.look import mouth_look
    from talkingface.render.photo import PhotoWarper
    from talkingface.speech import VISEME_POSES

    image = read_image(FACES / name)
    landmarks = detect_faces(image, max_faces=1)[0].landmarks
    rig, warper = LandmarkRig(landmarks), PhotoWarper(image, landmarks)
    if not lit:
        warper.light.apply = lambda interior, x0, y0: interior  # type: ignore[method-assign]
    out = []
    for jaw in OPENINGS:
        posed = rig({**VISEME_POSES["Ah"], "jawOpen": jaw})
        look = mouth_look(warper.warp(posed), posed)
        if look:
            out.append(look)
    return out


def verdict(looks: list[dict]) -> tuple[int, int, int, int]:
    darker = sum(k["interior"] < k["skin"] for k in looks)
    teeth = sum(k["teeth"] <= k["skin_bright"] + 2 for k in looks)
    rims = sum(k["rim_chroma"] <= k["face_chroma"] for k in looks)
    return darker, teeth, rims, len(looks)


def main() -> bool:
    """True when every frame of every portrait meets the three measures with the skin's light."""
    if not FACES.is_dir():
        print(f"skipped: {FACES} not found")
        return True
    ok = True
    for label, name in PORTRAITS.items():
        for lit in (True, False):
            darker, teeth, rims, total = verdict(measure(name, lit))
            ok &= (not lit) or darker == teeth == rims == total
            print(
                f"{label:<15} {'lit by the skin' if lit else 'fixed colours  '}: interior darker than the skin "
                f"{darker}/{total}, teeth no brighter than its brightest 5% {teeth}/{total}, rims within the face's "
                f"colours {rims}/{total}"
            )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
