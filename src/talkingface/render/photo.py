"""Warping a face image from its own landmarks to animated ones, with the mouth interior drawn.

The mesh is mediapipe's tessellation of the face (holes at the eyes and the mouth) plus two rings of
triangles around the face oval whose outer vertices never move, so motion fades out into the
background without tearing. For every output pixel inside a moving triangle the source pixel is
found by that triangle's affine map (a piecewise-affine backward warp, one ``cv2.remap``); pixels in
the eye holes keep the image; the mouth hole - the space between the animated inner lips - gets a
drawn interior: a shaded cavity, upper teeth fixed to the skull, lower teeth moving with the jaw and
a hint of tongue, composited with anti-aliased edges and lit by the photo's own light
(:class:`SkinLight`: the skin around the mouth gives its level, its gradient across the mouth, its
saturation and its most vivid colour, so a dark or side-lit face gets a dark or side-lit mouth and a
greyscale photo a grey one); its outline is the inner lips' contour smoothed (:func:`mouth_opening`).

A photo whose mouth is open has the gap between its lips filled from the lips first (inpainted), so
that closing lips never squeeze its teeth or shadows into a bright seam or dark notches at the
corners; the line where the animated lips meet is drawn instead, darker than the lips and fading
towards the corners. Where the face does not move, the photo is kept as it is, open mouth and all.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..face.topology import face_topology
from ..optional import needs

_RINGS = (1.35, 2.1)  # ring radii around the face, relative to the oval's distance from its centre
_RING_FOLLOW = (0.35, 0.0)  # how much of the oval's motion each ring follows


@dataclass
class MouthStyle:
    """Colours (RGB) of the drawn mouth interior; sampled from the photo when its mouth is open."""

    cavity: tuple[int, int, int] = (120, 52, 56)
    deep: tuple[int, int, int] = (26, 8, 10)
    teeth: tuple[int, int, int] = (232, 226, 214)
    tongue: tuple[int, int, int] = (168, 72, 78)


def _rgb(colour: np.ndarray) -> tuple[int, int, int]:
    """An RGB colour ``(3,)`` as ints (truncated, as ``int()`` does)."""
    r, g, b = (int(v) for v in colour)
    return r, g, b


class PhotoWarper:
    """Warps one image (a photo, or one video frame) of a face from its landmarks to new ones.

    Args:
        image: ``(H, W, 3) uint8`` RGB.
        landmarks: ``(478, 2|3)`` of the face in ``image``.
        style: mouth interior colours (default: sampled from the image if its mouth is open).
    """

    def __init__(self, image: np.ndarray, landmarks: np.ndarray, style: MouthStyle | None = None):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
        self.image = image
        self.height, self.width = image.shape[:2]
        topo = face_topology()
        source = np.asarray(landmarks, np.float64)[:, :2]
        self._oval = topo.group("face_oval")
        self._inner = topo.group("lips_inner")
        centre = source[self._oval].mean(axis=0)
        rings = [centre + k * (source[self._oval] - centre) for k in _RINGS]
        self._n_face = 468  # the tessellation uses the first 468 points (not the irises)
        self.source = np.concatenate([source[: self._n_face], *rings])
        self.triangles = np.concatenate([topo.triangles, self._ring_triangles(rings)])
        if style is None:
            style = sample_mouth_style(image, source, self._inner)
            lip = sample_lip_colour(image, source)
            if lip is not None:  # the inside of the lips: a deeper shade of their outside
                style.cavity = _rgb(0.55 * lip + 0.45 * np.array(style.cavity))
        self.style = style
        self.light = skin_light(image, source)
        # An open mouth's gap is filled from the lips and the line where animated lips meet is drawn
        # (a closed photo mouth keeps its own line: nothing is filled, no seam drawn).
        self._filled = _without_mouth_gap(image, source[self._inner], source[topo.group("lips_outer")])
        self._seam = None if self._filled is image else _seam_colour(image, source)

    def _ring_triangles(self, rings: list[np.ndarray]) -> np.ndarray:
        """Triangles joining the oval to the first ring and the first ring to the second."""
        n = len(self._oval)
        ring_starts = (self._n_face, self._n_face + n)
        loops = [self._oval, ring_starts[0] + np.arange(n), ring_starts[1] + np.arange(n)]
        tris = []
        for inner, outer in itertools.pairwise(loops):
            for k in range(n):
                a, b = inner[k], inner[(k + 1) % n]
                c, d = outer[k], outer[(k + 1) % n]
                tris += [(a, c, b), (b, c, d)]
        return np.array(tris, np.int64)

    def destination(self, landmarks: np.ndarray) -> np.ndarray:
        """Mesh vertices for animated landmarks: the rings follow part of the oval's motion."""
        moved = np.asarray(landmarks, np.float64)[: self._n_face, :2]
        motion = moved[self._oval] - self.source[self._oval]
        rings = [
            self.source[self._n_face + k * len(self._oval) : self._n_face + (k + 1) * len(self._oval)] + follow * motion
            for k, follow in enumerate(_RING_FOLLOW)
        ]
        return np.concatenate([moved, *rings])

    def warp(self, landmarks: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The image with its face moved to ``landmarks`` ``(478, 2|3)``; returns a new frame."""
        with needs("face"):
            import cv2

        dst = self.destination(landmarks)
        src = self.source
        frame = self.image.copy() if out is None else out
        moving = np.abs(dst - src).max(axis=1) > 0.05
        tri_moving = moving[self.triangles].any(axis=1)
        if not tri_moving.any():
            return frame
        tris = self.triangles[tri_moving]
        corners = dst[tris].reshape(-1, 2)
        x0, y0 = np.floor(corners.min(0)).astype(int) - 1
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        if x1 <= x0 or y1 <= y0:
            return frame
        # Affine map of every moving triangle: destination -> source pixel.
        d = np.concatenate([dst[tris], np.ones((len(tris), 3, 1))], axis=2)  # (K, 3, 3) rows [x, y, 1]
        s = src[tris]  # (K, 3, 2)
        det = np.linalg.det(d)
        ok = np.abs(det) > 1e-9
        maps = np.zeros((len(tris), 2, 3))
        maps[ok] = np.linalg.solve(d[ok], s[ok]).transpose(0, 2, 1)
        # Which triangle covers each pixel of the region (0 = none).
        ids = np.zeros((y1 - y0, x1 - x0), np.int32)
        shifted = np.round((dst[tris] - (x0, y0)) * 16).astype(np.int32)
        for k in np.flatnonzero(ok):
            cv2.fillConvexPoly(ids, shifted[k], (int(k) + 1,), lineType=cv2.LINE_8, shift=4)
        hole, mouth = self._mouth_mask(dst, x0, y0, x1, y1)
        if hole is not None and mouth is not None:
            # The hole's pixels take their nearest lip triangle's map: where the smoothed outline cuts
            # inside the landmarks' polygon the lips' texture runs on, and the anti-aliased interior
            # blends against lip colour, not against whatever the photo had there.
            fill = (ids == 0) & ((hole > 0) | (mouth > 0))
            if fill.any():
                _, nearest = cv2.distanceTransformWithLabels(
                    (ids == 0).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
                )
                covered = ids[ids > 0]  # labels number the covered pixels in row-major order
                if covered.size:
                    ids[fill] = covered[nearest[fill] - 1]
        ys, xs = np.nonzero(ids)
        k = ids[ys, xs] - 1
        px, py = xs + x0, ys + y0
        map_x = np.tile(np.arange(x0, x1, dtype=np.float32), (y1 - y0, 1))
        map_y = np.repeat(np.arange(y0, y1, dtype=np.float32)[:, None], x1 - x0, axis=1)
        m = maps[k]
        map_x[ys, xs] = m[:, 0, 0] * px + m[:, 0, 1] * py + m[:, 0, 2]
        map_y[ys, xs] = m[:, 1, 0] * px + m[:, 1, 1] * py + m[:, 1, 2]
        region = cv2.remap(self._filled, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if self._seam is not None:  # the gap was filled: what does not move keeps the photo's own mouth
            still = ids == 0
            region[still] = self.image[y0:y1, x0:x1][still]
            self._draw_seam(region, dst, x0, y0, self._seam)
        if mouth is not None:
            # Drawn only over the mouth's own box, not the whole moving region.
            rows, cols = np.nonzero(mouth.any(axis=1))[0], np.nonzero(mouth.any(axis=0))[0]
            if len(rows) and len(cols):
                ma, mb, na, nb = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
                box = (slice(ma, mb), slice(na, nb))
                interior = draw_mouth_interior(
                    (mb - ma, nb - na),
                    dst[:468] - (x0 + na, y0 + ma),
                    self._mouth_reference(x0 + na, y0 + ma),
                    self.style,
                )
                interior = self.light.apply(interior, x0 + na, y0 + ma)
                alpha = (mouth[box].astype(np.float32) / 255.0)[..., None]
                region[box] = (region[box] * (1 - alpha) + interior * alpha + 0.5).astype(np.uint8)
        frame[y0:y1, x0:x1] = region
        return frame

    def _mouth_mask(
        self, dst: np.ndarray, x0: int, y0: int, x1: int, y1: int
    ) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
        """Where the mouth is open (``(None, None)`` when it is closed): the space between the animated
        inner lips (0/1, grown by a pixel), and the anti-aliased coverage (0-255) of the drawn opening,
        the smoothed outline of :func:`mouth_opening`."""
        with needs("face"):
            import cv2

        polygon = dst[self._inner] - (x0, y0)
        if polygon_area(polygon) < 1.0:
            return None, None
        hole = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(hole, [np.round(polygon * 16).astype(np.int32)], (1,), shift=4)
        grown: np.ndarray = cv2.dilate(hole, np.ones((3, 3), np.uint8))
        mask = np.zeros_like(hole)
        opening = mouth_opening(dst) - (x0, y0)
        cv2.fillPoly(mask, [np.round(opening * 16).astype(np.int32)], (255,), lineType=cv2.LINE_AA, shift=4)
        return grown, mask

    @staticmethod
    def _draw_seam(region: np.ndarray, dst: np.ndarray, x0: int, y0: int, colour: np.ndarray) -> None:
        """The dark line where the lips meet, between the animated upper and lower inner lips, drawn
        anti-aliased into ``region`` (whose corner is (x0, y0)); an open mouth's interior covers it."""
        with needs("face"):
            import cv2

        line = 0.5 * (dst[_UPPER_INNER] + dst[_LOWER_INNER]) - (x0, y0)
        width = float(np.linalg.norm(dst[308] - dst[78]))
        thickness = max(1, round(0.02 * width))
        lo = np.floor(line.min(axis=0)).astype(int) - thickness - 2
        hi = np.ceil(line.max(axis=0)).astype(int) + thickness + 3
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, region.shape[1::-1])
        if (hi <= lo).any():
            return
        box = (slice(lo[1], hi[1]), slice(lo[0], hi[0]))
        alpha = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), np.uint8)
        points = np.round((line - lo) * 16).astype(np.int32)
        cv2.polylines(alpha, [points], False, (255,), thickness, lineType=cv2.LINE_AA, shift=4)
        # Lighter towards the corners, where real lips meet in a soft shadow rather than a line.
        yy, xx = np.mgrid[lo[1] : hi[1], lo[0] : hi[0]].astype(np.float32)
        u = _mouth_coordinates(xx, yy, line[0], line[-1])[0]  # the line runs from corner to corner
        taper = 0.55 + 0.45 * np.clip(1 - (2 * u / max(width, 1.0)) ** 2, 0, 1)
        a = (alpha.astype(np.float32) / 255.0 * taper)[..., None]
        patch = region[box].astype(np.float32)
        region[box] = (patch * (1 - a) + patch * colour * a + 0.5).astype(np.uint8)

    def _mouth_reference(self, x0: int, y0: int) -> np.ndarray:
        return self.source[:468] - (x0, y0)


# The inner lip contours from the right corner (78) to the left (308), point by point across.
_UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]
_LOWER_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308]


def mouth_opening(landmarks: np.ndarray, samples: int | None = None) -> np.ndarray:
    """The outline ``(M, 2)`` of a mouth's opening for face ``landmarks`` ``(478, 2+)``: the inner lip
    contours smoothed through ``samples`` Catmull-Rom points per segment (the landmarks alone give a
    polygon with straight edges). By default a point every :data:`OUTLINE_STEP` pixels or closer, so the
    outline stays round however large the face is drawn."""
    points = np.asarray(landmarks, np.float64)[:, :2]
    upper, lower = points[_UPPER_INNER], points[_LOWER_INNER]
    if samples is None:
        longest = float(np.linalg.norm(np.diff(np.concatenate([upper, lower]), axis=0), axis=1).max())
        samples = int(np.clip(np.ceil(longest / OUTLINE_STEP), 4, 64))
    return np.concatenate([_catmull_rom(upper, samples), _catmull_rom(lower[::-1], samples)[1:-1]])


#: The longest straight piece of a drawn mouth outline, in pixels.
OUTLINE_STEP = 3.0


def _catmull_rom(path: np.ndarray, samples: int) -> np.ndarray:
    """A smooth curve through ``path`` ``(N, 2)``, ``samples`` points per segment, ends included."""
    padded = np.concatenate([2 * path[:1] - path[1:2], path, 2 * path[-1:] - path[-2:-1]])
    t = np.arange(samples)[:, None] / samples
    pieces = []
    for k in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[k - 1], padded[k], padded[k + 1], padded[k + 2]
        pieces.append(
            0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
        )
    return np.concatenate([*pieces, path[-1:]])


def _without_mouth_gap(image: np.ndarray, inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """The photo with the space between its inner lips filled from the lips around it (inpainted), so
    that closing, animated lips never squeeze the photo's own teeth or shadow into a seam or into dark
    notches at the corners. A mouth open by less than a tenth of the lips' area is returned as it is:
    its dark line is where the lips meet."""
    with needs("face"):
        import cv2

    if polygon_area(inner) < 0.1 * max(polygon_area(outer), 1.0):
        return image
    gap = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(gap, [np.round(inner * 16).astype(np.int32)], (255,), shift=4)
    filled: np.ndarray = cv2.inpaint(image, cv2.dilate(gap, np.ones((3, 3), np.uint8)), 3, cv2.INPAINT_TELEA)
    return filled


def _seam_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """How much a closed mouth's seam darkens the lips, per channel ``(3,)``: deeper and a little
    redder than the lips, as the shadow between real lips is."""
    lip = sample_lip_colour(image, landmarks)
    if lip is None:
        return np.array([0.4, 0.35, 0.35], np.float32)
    tint = lip / max(float(lip.max()), 1.0)
    return (0.5 * (0.5 + 0.5 * tint)).astype(np.float32)


def polygon_area(polygon: np.ndarray) -> float:
    """Area of a closed polygon ``(N, 2)`` (the shoelace formula), in square pixels."""
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


@dataclass
class MouthRegions:
    """Pixel masks ``(H, W) bool`` around a mouth: ``gap`` between the inner lips, ``lips`` between the
    inner and outer contours, ``skin`` a band around the lips (from 1.1 to 1.6 times the mouth's size)."""

    gap: np.ndarray
    lips: np.ndarray
    skin: np.ndarray


def mouth_regions(shape: tuple, landmarks: np.ndarray) -> MouthRegions:
    """The :class:`MouthRegions` of the face with ``landmarks`` ``(478, 2+)`` in an image of ``shape``."""
    with needs("face"):
        import cv2

    topo = face_topology()
    points = np.asarray(landmarks)[:, :2]
    inner, outer = points[topo.group("lips_inner")], points[topo.group("lips_outer")]
    centre = outer.mean(axis=0)

    def fill(polygon: np.ndarray) -> np.ndarray:
        mask = np.zeros(shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], (1,), shift=4)
        return mask > 0

    gap = fill(inner)
    return MouthRegions(
        gap, fill(outer) & ~gap, fill(centre + 1.6 * (outer - centre)) & ~fill(centre + 1.1 * (outer - centre))
    )


@dataclass
class SkinLight:
    """How the light falls on the skin around the mouth, to light the drawn interior alike.

    Attributes:
        plane: luminance ``a + b x + c y`` of the skin around the mouth (image pixels), fitted.
        centre: the mouth's centre, where the plane gives the reference level.
        bright: the skin's brightest 5% luminance (95th percentile) around the mouth.
        saturation: the skin's median colour saturation (0 for a greyscale photo).
        chroma: the most vivid colour of the skin and lips (95th percentile of largest minus smallest
            channel): no drawn colour is more vivid.
    """

    plane: np.ndarray
    centre: np.ndarray
    bright: float
    saturation: float
    chroma: float

    def apply(self, interior: np.ndarray, x0: int, y0: int) -> np.ndarray:
        """Light ``interior`` (float RGB of a region whose corner is (x0, y0)): its colours keep their
        shade relative to white, scaled to the skin's brightest level and to the light falling across
        the mouth, with the skin's saturation (a greyscale photo gets a grey mouth)."""
        h, w = interior.shape[:2]
        yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
        a, b, c = self.plane
        level = a + b * self.centre[0] + c * self.centre[1]
        across = np.clip((a + b * xx + c * yy) / max(level, 1.0), 0.4, 1.6)
        scale = (self.bright / 255.0) * across
        luma = interior @ np.array([0.299, 0.587, 0.114], np.float32)
        chroma = np.clip(self.saturation / 0.25, 0.0, 1.0)
        coloured = (luma[..., None] + chroma * (interior - luma[..., None])) * scale[..., None]
        vivid = coloured.max(axis=-1) - coloured.min(axis=-1)
        calm = np.minimum(1.0, self.chroma / np.maximum(vivid, 1e-6))[..., None]
        lit_luma = (luma * scale)[..., None]
        return np.clip(lit_luma + calm * (coloured - lit_luma), 0, 255)


def skin_light(image: np.ndarray, landmarks: np.ndarray) -> SkinLight:
    """The light on the skin in a band around the lips (out to 1.6 times the mouth's size)."""
    regions = mouth_regions(image.shape, landmarks)
    centre = np.asarray(landmarks)[face_topology().group("lips_outer"), :2].mean(axis=0)
    ys, xs = np.nonzero(regions.skin)
    pixels = image[ys, xs].astype(np.float64)
    if len(pixels) < 30:
        return SkinLight(np.array([200.0, 0.0, 0.0]), centre, 230.0, 0.3, 80.0)
    luma = pixels @ (0.299, 0.587, 0.114)
    design = np.stack([np.ones_like(xs, np.float64), xs, ys], axis=1)
    plane = np.linalg.lstsq(design, luma, rcond=None)[0]
    top, low = pixels.max(axis=1), pixels.min(axis=1)
    saturation = float(np.median((top - low) / np.maximum(top, 1.0)))
    both = np.concatenate([pixels, image[regions.lips].astype(np.float64)])
    chroma = float(np.percentile(both.max(axis=1) - both.min(axis=1), 95))
    return SkinLight(plane, centre, float(np.percentile(luma, 95)), saturation, chroma)


def sample_mouth_style(image: np.ndarray, landmarks: np.ndarray, inner: np.ndarray) -> MouthStyle:
    """Teeth and cavity colours from the photo's own open mouth, when there is enough of it."""
    with needs("face"):
        import cv2

    style = MouthStyle()
    polygon = np.round(np.asarray(landmarks)[inner, :2] * 16).astype(np.int32)
    mask: np.ndarray = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [polygon], (1,), shift=4)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    pixels = image[mask > 0].astype(np.float64)
    if len(pixels) < 60:
        return style
    luma = pixels @ (0.299, 0.587, 0.114)
    bright = pixels[luma >= np.percentile(luma, 70)]
    dark = pixels[luma <= np.percentile(luma, 20)]
    if bright.size and (bright @ (0.299, 0.587, 0.114)).mean() > 120:
        teeth = np.median(bright, axis=0)
        # Keep sampled teeth believable: light and nearly neutral in hue.
        teeth = 0.6 * teeth + 0.4 * np.array(style.teeth)
        style.teeth = _rgb(teeth)
    if dark.size and (dark @ (0.299, 0.587, 0.114)).mean() < 90:
        style.deep = _rgb(np.median(dark, axis=0) * 0.8)
    return style


def sample_lip_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """Median colour of the lips (between the outer and inner lip contours)."""
    pixels = image[mouth_regions(image.shape, landmarks).lips]
    return np.median(pixels, axis=0) if len(pixels) >= 20 else None


def draw_mouth_interior(shape: tuple, lips: np.ndarray, neutral: np.ndarray, style: MouthStyle) -> np.ndarray:
    """The inside of an open mouth, drawn for the animated lips ``lips`` (478 points in region pixels).

    Upper teeth hang from where the upper lip is at rest (they are fixed to the skull), lower teeth
    ride on the lower lip (they move with the jaw). Returns ``shape`` float RGB.
    """
    with needs("face"):
        import cv2

    h, w = shape[:2]
    corner_r, corner_l = lips[78], lips[308]
    width = float(np.linalg.norm(corner_l - corner_r))
    out = np.empty((h, w, 3), np.float32)
    out[:] = style.cavity
    # Depth shading: darker away from the lips, inside the smooth outline of the opening; the distance's
    # creases (where it turns between two edges) are blurred away, so no facet or seam shows at any size.
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(mouth_opening(lips) * 16).astype(np.int32)], (255,), shift=4)
    if mask.any():
        depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
        near = np.clip(depth / max(0.12 * width, 1.0), 0, 1).astype(np.float32)
        shade: np.ndarray = np.asarray(cv2.GaussianBlur(near, (0, 0), max(0.5, 0.03 * width)), np.float32)[..., None]
        out = out * (1 - shade) + np.array(style.deep, np.float32) * shade
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v, centre, down = _mouth_coordinates(xx, yy, corner_r, corner_l)
    span = np.clip(1 - (2 * u / (0.9 * width)) ** 2, 0, 1)  # teeth fade out towards the corners
    # Upper teeth: from the resting upper lip line down by ~0.09 mouth widths.
    rest_upper = (neutral[13] - centre) @ down
    top = rest_upper + 0.01 * width
    upper_teeth = _smoothstep_array((top + 0.1 * width * np.sqrt(span) - v) / (0.02 * width)) * (v > top - 0.02 * width)
    # Lower teeth: ride on the lower inner lip.
    lower_lip = (lips[14] - centre) @ down
    lower_teeth = _smoothstep_array((v - (lower_lip - 0.07 * width * np.sqrt(span))) / (0.02 * width)) * (
        v < lower_lip + 0.02 * width
    )
    teeth_colour = np.array(style.teeth, np.float32)
    # Tooth boundaries: faint darker lines across the upper teeth.
    gaps = 1 - 0.12 * np.clip(1 - np.abs(np.sin(np.pi * u / (0.11 * width))) * 6, 0, 1)
    # Teeth and tongue show once the lips part: through a narrow gap (closing, m/b/p) the mouth is only
    # shadow, so no bright seam runs along the lips.
    gap = abs(float((lips[14] - lips[13]) @ down)) / max(width, 1e-6)
    showing = float(_smoothstep_array(np.array((gap - 0.04) / 0.1)))
    # Tongue: a soft dome low in the mouth, behind the lower teeth, its top catching the light and its
    # sides falling into the mouth's shadow.
    dome = (u / (0.34 * width)) ** 2 + ((v - lower_lip + 0.04 * width) / (0.11 * width)) ** 2
    tongue = (0.85 * showing * _smoothstep_array((1 - dome) / 0.35))[..., None]
    lit = np.clip(1.05 - 0.5 * np.abs(u) / (0.34 * width), 0.5, 1.0)[..., None]
    out = out * (1 - tongue) + np.array(style.tongue, np.float32) * lit * tongue
    upper = (upper_teeth * span * showing)[..., None]
    lower = (lower_teeth * span * 0.85 * showing)[..., None]
    # Teeth go into shadow towards the cheeks and just under the lips that overhang them.
    sides = (0.6 + 0.4 * np.sqrt(span))[..., None]
    upper_lip = (lips[13] - centre) @ down
    overhang = 1 - 0.3 * np.clip(1 - (v - upper_lip) / (0.03 * width), 0, 1)
    under_lower = 1 - 0.25 * np.clip(1 - (lower_lip - v) / (0.025 * width), 0, 1)
    out = out * (1 - upper) + teeth_colour * (gaps * overhang)[..., None] * sides * upper
    out = out * (1 - lower) + teeth_colour * 0.82 * under_lower[..., None] * sides * lower
    return out


def _mouth_coordinates(
    xx: np.ndarray, yy: np.ndarray, corner_r: np.ndarray, corner_l: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels ``(xx, yy)`` in the mouth's own frame: ``u`` along the mouth from its centre towards the
    left corner, ``v`` down the face; with the centre and the unit vector down, to place points alike."""
    across = (corner_l - corner_r) / max(float(np.linalg.norm(corner_l - corner_r)), 1e-6)
    down = np.array([-across[1], across[0]])
    centre = (corner_r + corner_l) / 2
    u = (xx - centre[0]) * across[0] + (yy - centre[1]) * across[1]
    v = (xx - centre[0]) * down[0] + (yy - centre[1]) * down[1]
    return u, v, centre, down


def _smoothstep_array(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)
