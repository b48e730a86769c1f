"""A blendshape rig on the 478 face landmarks: ARKit-style mouth and jaw shapes as displacement fields.

The rig works in a face-local 3D frame (x from the subject's right cheek to the left, y down the nose,
z away from the camera; unit = face width), so shapes scale with the face and follow its head pose.
First the person's own face is *neutralised*: a photo with parted lips is closed (half by the jaw,
half by the lips), so that weights of zero mean a closed, relaxed mouth whatever the photo shows.
Then each shape moves the landmarks:

- ``jawOpen`` rotates the jaw about a hinge in front of the ears, each point by how much it belongs to
  the jaw (the chin and the lower lip's middle fully, the mouth corners half, the lips near the corners
  in between - the upper lip's corners coming down part of the way - so the mouth opens round and
  narrows into its corners; cheeks fading out);
- ``mouthClose`` brings the lower lip back up against the upper lip while the jaw stays open;
- ``mouthFunnel``, ``mouthPucker``: corners drawn in, lips pushed forward (and opened into an O);
- ``mouthStretch*``, ``mouthSmile*``: corners out (and up), per side;
- ``mouthRoll*``, ``mouthPress*``, ``mouthShrug*``: lips rolled in, pressed, raised;
- ``mouthLowerDown*``, ``mouthUpperUp*``: lower lip down / upper lip up, per side;
- ``eyeBlink*``: upper lids down to the lower lids;
- ``browInnerUp``, ``browOuterUp*``: the brows' inner / outer halves raised, the skin around them following.

Weights are ARKit names in [0, 1]; unknown channels are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..face.topology import NUM_LANDMARKS, face_topology

JAW_MAX_DEGREES = 24.0
BROW_RAISE = 0.04  # face widths a brow rises at weight 1
# The jaw hinge in face units relative to the subnasale: at the level of the cheekbones, well
# behind the face surface (the joints sit in front of the ears).
_HINGE = np.array([0.0, -0.05, 0.62])


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


@dataclass(frozen=True)
class FaceFrame:
    """A face-local frame: ``local = (p - origin) @ axes / scale``."""

    origin: np.ndarray
    axes: np.ndarray  # (3, 3), columns x, y, z
    scale: float

    def to_local(self, points: np.ndarray) -> np.ndarray:
        return (points - self.origin) @ self.axes / self.scale

    def to_world(self, local: np.ndarray) -> np.ndarray:
        return self.origin + (local * self.scale) @ self.axes.T


def face_frame(landmarks: np.ndarray) -> FaceFrame:
    """The frame of a face from skull-fixed landmarks (cheeks, nose bridge, subnasale)."""
    p = face_topology().points
    lm = np.asarray(landmarks, np.float64)
    across = lm[p["left_cheek"]] - lm[p["right_cheek"]]
    scale = float(np.linalg.norm(across))
    if not scale > 1e-3:
        raise InputError("landmarks are degenerate (the face has no width)")
    x = across / scale
    down = lm[p["subnasale"]] - lm[168]  # nose bridge between the eyes -> base of the nose
    y = down - (down @ x) * x
    y /= np.linalg.norm(y) + 1e-12
    z = np.cross(x, y)
    return FaceFrame(origin=lm[p["subnasale"]].copy(), axes=np.stack([x, y, z], axis=1), scale=scale)


def _rotate_about_x(points: np.ndarray, pivot: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate local points about the x axis through ``pivot`` by per-point ``angles`` (radians);
    positive opens the jaw (chin down and back)."""
    d = points - pivot
    c, s = np.cos(angles), np.sin(angles)
    out = points.copy()
    out[:, 1] = pivot[1] + c * d[:, 1] - s * d[:, 2]
    out[:, 2] = pivot[2] + s * d[:, 1] + c * d[:, 2]
    return out


_NECK = np.array([0.0, 0.55, 0.45])  # pivot of small head turns, face units


def head_rotation(yaw: float, pitch: float) -> np.ndarray:
    """``(3, 3)`` rotation of a head turn in the face-local frame (x to the subject's left, y down, z
    away from the camera): yaw about the y axis, then pitch about the x axis, degrees."""
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rotation: np.ndarray = rx @ ry
    return rotation


def _turn_head(local: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """Rotate local points about the neck: yaw about the y axis, pitch about the x axis (degrees)."""
    return _NECK + (local - _NECK) @ head_rotation(yaw, pitch).T


def mesh_head_pose(vertices: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the rotation ``(T, 3, 3)`` and translation ``(T, 3)`` that turn a mesh in the template
    axes (y up, z towards the viewer) by ``head`` ``(T, 2)`` yaw and pitch degrees about its neck (below
    and behind the face, where the rig turns it): ``v' = R v + t``."""
    vertices = np.asarray(vertices, np.float64)
    width = float(np.ptp(vertices[:, 0])) or 1.0
    centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    flip = np.diag([1.0, -1.0, -1.0])  # template axes <-> the rig's face-local axes
    neck = centre + flip @ (_NECK * width)
    rotations = np.stack([flip @ head_rotation(float(y), float(p)) @ flip for y, p in np.asarray(head)])
    translations = neck - rotations @ neck
    return rotations, translations


class LandmarkRig:
    """The rig of one face (from its landmarks in one image). ``rig(weights) -> (478, 3)``.

    Args:
        landmarks: ``(478, 3)`` of the face as it is in the image (x, y pixels, z in pixel scale).
    """

    def __init__(self, landmarks: np.ndarray):
        lm = np.asarray(landmarks, np.float64)
        if lm.shape != (NUM_LANDMARKS, 3) or not np.isfinite(lm).all():
            raise InputError(f"landmarks must be finite ({NUM_LANDMARKS}, 3), got {lm.shape}")
        self.source = lm
        self.frame = face_frame(lm)
        topo = face_topology()
        self._inner = topo.group("lips_inner")
        self._outer = topo.group("lips_outer")
        p = topo.points
        self._corners = {"right": p["mouth_right"], "left": p["mouth_left"]}
        local = self.frame.to_local(lm)
        self._classify(local)
        self.neutral_local = self._neutralise(local)
        self._classify(self.neutral_local)
        self.neutral = self.frame.to_world(self.neutral_local)

    # -- analysis ------------------------------------------------------------------------------
    def _classify(self, local: np.ndarray) -> None:
        """Lip line, upper/lower lip points and the jaw weight of every point."""
        topo = face_topology()
        right, left = local[self._corners["right"]], local[self._corners["left"]]
        self.mouth_centre = (right + left) / 2
        self.half_width = float(abs(left[0] - right[0]) / 2) or 0.2
        # Upper and lower inner lip: the inner contour split at its corners (78, 308).
        contour = list(self._inner)
        a, b = contour.index(78), contour.index(308)
        half1 = contour[min(a, b) : max(a, b) + 1]
        half2 = contour[max(a, b) :] + contour[: min(a, b) + 1]
        upper, lower = (half1, half2) if local[half1, 1].mean() < local[half2, 1].mean() else (half2, half1)
        self.upper_inner, self.lower_inner = np.array(upper), np.array(lower)
        xs_u, ys_u = local[upper, 0], local[upper, 1]
        xs_l, ys_l = local[lower, 0], local[lower, 1]
        order_u, order_l = np.argsort(xs_u), np.argsort(xs_l)
        grid = np.linspace(right[0], left[0], 32)
        line = (np.interp(grid, xs_u[order_u], ys_u[order_u]) + np.interp(grid, xs_l[order_l], ys_l[order_l])) / 2
        self._line_x, self._line_y = grid, line

        x, y = local[:, 0], local[:, 1]
        line_y = self.lip_line(x)
        cx = self.mouth_centre[0]
        # The lips lie between the base of the nose (local y = 0) and the chin.
        in_mouth = (np.abs(x - cx) <= self.half_width * 1.08) & (y > 0.01) & (y - self.mouth_centre[1] < 0.16)
        self.upper = in_mouth & (y < line_y)
        self.lower = in_mouth & (y >= line_y)
        self.upper[upper] = True
        self.lower[upper] = False
        self.lower[lower] = True
        self.upper[lower] = False
        jaw = _smoothstep((y - line_y + 0.015) / 0.05)
        # Lips follow the jaw fully in the middle and by half at the corners, the upper lip's corners
        # coming down to meet the lower lip's, so the mouth opens in a rounded shape that narrows into
        # its corners (not a box with vertical sides). Skin away from the lip line is not affected.
        corners = np.stack([right[:2], left[:2]])
        reach = np.linalg.norm(local[:, None, :2] - corners[None], axis=2).min(axis=1)
        middle = _smoothstep(reach / (0.5 * self.half_width))
        near_above = _smoothstep(1.0 - (line_y - y) / 0.06)
        near_below = _smoothstep(1.0 - (y - line_y) / 0.06)
        jaw[self.upper] = (0.5 * (1.0 - middle) * near_above)[self.upper]
        jaw[self.lower] = (1.0 - 0.5 * (1.0 - middle) * near_below)[self.lower]
        for corner in (78, 308, self._corners["right"], self._corners["left"]):
            jaw[corner] = 0.5
        # The forehead, eyes and nose never belong to the jaw.
        jaw[y < -0.02] = 0.0
        self.jaw_weight = jaw
        # Soft weights of the lip region (for shaping the lips) and of each side.
        r = np.hypot((x - cx) / (self.half_width * 2.0), (y - self.mouth_centre[1]) / 0.17)
        self.mouth_weight = _smoothstep(1.0 - r)
        self.side_left = _smoothstep((x - cx) / (self.half_width * 0.6) * 0.5 + 0.5)
        self.side_right = 1.0 - self.side_left
        self._classify_brows(local)
        self.upper_eyelid = np.zeros(len(local), bool)
        self.lower_eyelid = np.zeros(len(local), bool)
        for eye in ("right_eye", "left_eye"):
            ring = topo.group(eye)
            middle = local[ring, 1].mean()
            for index in ring:
                (self.upper_eyelid if local[index, 1] < middle else self.lower_eyelid)[index] = True

    def _classify_brows(self, local: np.ndarray) -> None:
        """How much each point follows each brow's inner and outer half when it is raised: the brow's own
        points fully, points around it fading out within 0.06 face widths; the eyes stay still."""
        topo = face_topology()
        keep_still = np.zeros(len(local), bool)
        for group in ("left_eye", "right_eye", "left_iris", "right_iris"):
            keep_still[topo.group(group)] = True
        self.brow_inner = np.zeros(len(local))
        self.brow_outer = {"Left": np.zeros(len(local)), "Right": np.zeros(len(local))}
        for side, group in (("Left", "left_eyebrow"), ("Right", "right_eyebrow")):
            ring = topo.group(group)
            spread = np.abs(local[ring, 0] - self.mouth_centre[0])
            inner = 1.0 - (spread - spread.min()) / max(float(np.ptp(spread)), 1e-6)
            distance = np.linalg.norm(local[:, None, :2] - local[None, ring, :2], axis=2)  # (N, ring)
            nearest = distance.argmin(1)
            reach = _smoothstep(1.0 - distance.min(1) / 0.06) * ~keep_still
            self.brow_inner = np.maximum(self.brow_inner, reach * inner[nearest])
            self.brow_outer[side] = reach * (1.0 - inner[nearest])

    def lip_line(self, x: np.ndarray) -> np.ndarray:
        """Height of the line where the lips meet, extended past the corners towards the jaw hinge."""
        x = np.asarray(x, np.float64)
        y = np.interp(x, self._line_x, self._line_y)
        for end in (0, -1):
            cx, cy = self._line_x[end], self._line_y[end]
            beyond = (x - cx) * (1 if end == -1 else -1) > 0
            span = 0.5 - abs(cx)
            y[beyond] = cy + (np.abs(x[beyond]) - abs(cx)) / max(span, 1e-3) * (_HINGE[1] - cy)
        return y

    def lip_gap(self, local: np.ndarray) -> np.ndarray:
        """Vertical distance between the lower and upper inner lip at 7 points across the mouth."""
        grid = np.linspace(self._line_x[0], self._line_x[-1], 9)[1:-1]
        up, lo = local[self.upper_inner], local[self.lower_inner]
        yu = np.interp(grid, np.sort(up[:, 0]), up[np.argsort(up[:, 0]), 1])
        yl = np.interp(grid, np.sort(lo[:, 0]), lo[np.argsort(lo[:, 0]), 1])
        return yl - yu

    def _neutralise(self, local: np.ndarray) -> np.ndarray:
        """Close parted lips: half of the gap by turning the jaw up, the rest by the lips."""
        gap = max(0.0, float(np.median(self.lip_gap(local))))
        if gap < 0.004:
            return local.copy()
        centre = local[self.lower_inner].mean(axis=0)
        radius = float(np.hypot(*(centre - _HINGE)[1:]))
        closed = _rotate_about_x(local, _HINGE, -0.5 * gap / radius * self.jaw_weight)
        # The lips meet on a line 40% of the way from the upper to the lower lip.
        x = closed[:, 0]
        up, lo = closed[self.upper_inner], closed[self.lower_inner]
        yu = np.interp(x, np.sort(up[:, 0]), up[np.argsort(up[:, 0]), 1])
        yl = np.interp(x, np.sort(lo[:, 0]), lo[np.argsort(lo[:, 0]), 1])
        seal = yu + 0.4 * (yl - yu)
        lips = self.mouth_weight
        closed[:, 1] += np.where(self.lower, (seal - yl) * np.maximum(lips, self.lower * 1.0), 0.0)
        closed[:, 1] += np.where(self.upper, (seal - yu) * np.maximum(lips, self.upper * 1.0), 0.0)
        return closed

    # -- shapes --------------------------------------------------------------------------------
    def __call__(self, weights: dict[str, float] | None = None, head: tuple[float, float] | None = None) -> np.ndarray:
        """Landmarks ``(478, 3)`` (image coordinates) of the neutral face with ``weights`` applied,
        and the head turned by ``head`` = (yaw, pitch) degrees about the neck if given."""
        local = self.apply_local(weights or {})
        if head is not None:
            local = _turn_head(local, *head)
        return self.frame.to_world(local)

    def apply_local(self, w: dict[str, float]) -> np.ndarray:
        def g(name):
            return float(np.clip(w.get(name, 0.0), 0.0, 1.0))

        base = self.neutral_local
        out = base.copy()
        lips, upper, lower = self.mouth_weight, self.upper.astype(float), self.lower.astype(float)
        x_rel = base[:, 0] - self.mouth_centre[0]
        outer = np.zeros(len(base), bool)
        outer[self._outer] = True

        # Jaw: rotation about the hinge; mouthClose cancels it on the lips.
        jaw_angle = np.radians(JAW_MAX_DEGREES) * g("jawOpen")
        opened = _rotate_about_x(base, _HINGE, jaw_angle * self.jaw_weight)
        jaw_delta = opened - base
        close = g("mouthClose")
        membership = np.where(self.lower, 1.0, np.where(self.jaw_weight == 0.5, 0.5, 0.0))
        out += jaw_delta * (1.0 - 0.92 * close * membership)[:, None]
        out[:, 1] += close * upper * lips * jaw_delta[self.lower_inner, 1].mean() * 0.08

        funnel, pucker = g("mouthFunnel"), g("mouthPucker")
        out[:, 0] -= x_rel * lips * (0.3 * funnel + 0.6 * pucker)
        out[:, 2] -= lips * (0.05 * funnel + 0.08 * pucker)
        inner_open = 0.035 * funnel + 0.008 * pucker
        out[:, 1] -= upper * lips * inner_open * 0.8
        out[:, 1] += lower * lips * inner_open

        for side, weight in (("Left", self.side_left), ("Right", self.side_right)):
            direction = 1.0 if side == "Left" else -1.0
            stretch, smile = g(f"mouthStretch{side}"), g(f"mouthSmile{side}")
            out[:, 0] += direction * lips * weight * (0.06 * stretch + 0.05 * smile)
            out[:, 1] += lips * weight * (0.012 * stretch - 0.035 * smile)
            out[:, 1] += lower * lips * weight * 0.045 * g(f"mouthLowerDown{side}")
            out[:, 1] -= upper * lips * weight * 0.035 * g(f"mouthUpperUp{side}")
            press = g(f"mouthPress{side}")
            out[:, 1] += (upper * outer) * weight * 0.008 * press
            out[:, 1] -= (lower * outer) * weight * 0.008 * press
            blink = g(f"eyeBlink{side}")
            if blink:
                eye = "left_eye" if side == "Left" else "right_eye"
                ring = face_topology().group(eye)
                lid_low = base[ring][self.lower_eyelid[ring], 1].mean()
                lids = self.upper_eyelid & np.isin(np.arange(len(base)), ring)
                out[lids, 1] += blink * 0.9 * (lid_low - base[lids, 1])

        raise_ = BROW_RAISE * (
            g("browInnerUp") * self.brow_inner
            + g("browOuterUpLeft") * self.brow_outer["Left"]
            + g("browOuterUpRight") * self.brow_outer["Right"]
        )
        out[:, 1] -= raise_

        roll_lower, roll_upper = g("mouthRollLower"), g("mouthRollUpper")
        out[:, 1] -= (lower * outer) * lips * 0.022 * roll_lower
        out[:, 2] += lower * lips * 0.02 * roll_lower
        out[:, 1] += (upper * outer) * lips * 0.016 * roll_upper
        out[:, 1] -= lower * lips * 0.015 * g("mouthShrugLower")
        out[:, 1] -= upper * lips * 0.01 * g("mouthShrugUpper")
        return out
