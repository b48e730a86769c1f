"""A contact sheet: the face of a talking video at telling moments, in one image, to check at a glance.

:func:`telling_moments` picks them from the animation: the widest-open mouth, the loudest frames, the
closures of m/b/p, a quiet frame inside the speech and one in a pause, and a blink if there is one.
:func:`write_contact_sheet` crops the face (found in the video's first frame) at each moment, labels
the tile with the time and the reason, and writes a PNG or JPEG atomically.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..face import detect_faces
from ..face.detection import landmark_box, landmark_centre
from ..files import atomic_output, written
from ..optional import needs

TILE = 256
COLUMNS = 4


def telling_moments(
    curves, audio: np.ndarray, sample_rate: int, phonemes=None, count: int = 8
) -> list[tuple[float, str]]:
    """Up to ``count`` (seconds, reason) pairs, in time order, at least 0.2 s apart."""
    fps = float(curves.fps)
    n = curves.num_frames
    if n == 0:
        return []
    edges = (np.arange(n + 1) / fps * sample_rate).astype(int)
    x = np.asarray(audio, np.float64)
    loud = np.array([np.sqrt(np.mean(x[a:b] ** 2)) if b > a else 0.0 for a, b in itertools.pairwise(edges)])
    speaking = loud > 0.1 * loud.max() if loud.max() > 0 else np.zeros(n, bool)
    wanted: list[tuple[int, str]] = []
    jaw = curves.channel("jawOpen") if "jawOpen" in curves.names else np.zeros(n)
    wanted.append((int(np.argmax(jaw)), "widest"))
    for k in np.argsort(-loud)[:2]:
        wanted.append((int(k), "loudest"))
    if phonemes is not None:
        closures = [p for p in phonemes.speech if p.phone in ("M", "B", "P")]
        for p in {id(c): c for c in closures[len(closures) // 3 :: max(1, len(closures) // 3)][:2]}.values():
            wanted.append((min(n - 1, int(round((p.start + p.end) / 2 * fps))), p.phone.lower()))
    if speaking.any():
        inside = np.flatnonzero(speaking)
        wanted.append((int(inside[np.argmin(loud[inside])]), "quiet in speech"))
    if (~speaking).any():
        pauses = np.flatnonzero(~speaking)
        wanted.append((int(pauses[len(pauses) // 2]), "pause"))
    if "eyeBlinkLeft" in curves.names and curves.channel("eyeBlinkLeft").max() > 0.9:
        wanted.append((int(np.argmax(curves.channel("eyeBlinkLeft"))), "blink"))
    chosen: list[tuple[int, str]] = []
    for frame, reason in wanted:
        if all(abs(frame - other) >= 0.2 * fps for other, _ in chosen):
            chosen.append((frame, reason))
    return [(frame / fps, reason) for frame, reason in sorted(chosen[:count])]


def write_contact_sheet(
    video: str | os.PathLike,
    moments: list[tuple[float, str]],
    output: str | os.PathLike,
    face_index: int = 0,
    near: tuple[float, float] | None = None,
) -> Path:
    """Face tiles of ``video`` at ``moments`` ((seconds, label) pairs) -> ``output`` (.png or .jpg); the
    tiles frame the face ``face_index`` of the first frame (largest first, as a photo's faces are
    counted; the largest where there are fewer), or with ``near`` (x, y in pixels) the face of the first
    frame whose centre is nearest that point (a video's face track, followed by its place)."""
    with needs("face"):
        import cv2

    from ..media import VideoReader

    if not moments:
        raise InputError("no moments for the contact sheet")
    suffix = Path(output).suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg"):
        raise InputError(f"{output}: the contact sheet must be .png or .jpg")
    tiles, box = [], None
    with VideoReader(written(video)) as reader:
        fps = float(reader.info.fps or 25)
        wanted: dict[int, tuple[float, str]] = {}
        for seconds, label in moments:
            wanted.setdefault(int(round(seconds * fps)), (seconds, label))
        for index, frame in enumerate(reader):
            if box is None:
                faces = detect_faces(frame, max_faces=max(4 if near else 1, face_index + 1))
                face = faces[face_index] if face_index < len(faces) else faces[0] if faces else None
                if near is not None and faces:
                    face = min(faces, key=lambda f: float(np.hypot(*(np.subtract(landmark_centre(f.landmarks), near)))))
                x0, y0, x1, y1 = landmark_box(face.landmarks) if face else (0, 0, frame.shape[1], frame.shape[0])
                side = 1.3 * max(x1 - x0, y1 - y0)
                cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                box = (int(cx - side / 2), int(cy - side / 2), int(side))
            if index in wanted:
                tiles.append(_tile(frame, box, *wanted[index]))
            if index >= max(wanted):
                break
    if not tiles:
        raise InputError(f"{video}: none of the moments lies in the video")
    while len(tiles) % COLUMNS and len(tiles) > COLUMNS:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[k : k + COLUMNS], axis=1) for k in range(0, len(tiles), COLUMNS)]
    sheet = np.concatenate(rows, axis=0)
    with atomic_output(output) as tmp:
        encoded = cv2.imencode(suffix if suffix != ".jpeg" else ".jpg", sheet[..., ::-1])[1]
        Path(tmp).write_bytes(encoded.tobytes())
    return Path(output)


def _tile(frame: np.ndarray, box: tuple[int, int, int], seconds: float, label: str) -> np.ndarray:
    with needs("face"):
        import cv2

    x, y, side = box
    padded = cv2.copyMakeBorder(frame, side, side, side, side, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    crop = padded[y + side : y + 2 * side, x + side : x + 2 * side]
    tile = cv2.resize(crop, (TILE, TILE), interpolation=cv2.INTER_AREA if side > TILE else cv2.INTER_CUBIC)
    text = f"{seconds:.2f} s {label}"
    cv2.putText(tile, text, (8, TILE - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(tile, text, (8, TILE - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return tile
