"""Make the README's contact sheet: the face of a talking-photo video at chosen moments.

python scripts/make_contact_sheet.py out/demo.mp4 docs/talking_photo.png

(`talkingface animate ... --sheet FILE` makes one at moments it picks itself.)
"""

from __future__ import annotations

import sys

from talkingface.render.sheet import write_contact_sheet

# Moments (seconds) of 'it was the best of times, it was the worst of times' in the demo speech.
MOMENTS = (0.6, 1.30, 1.50, 1.85, 2.45, 2.62, 3.70, 4.40)


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    write_contact_sheet(source, [(t, "") for t in MOMENTS], target)
    print(f"contact sheet: {target}")


if __name__ == "__main__":
    main()
