"""Which of the speaker's real mouths to show at each frame: a path through a library of mouths.

Each library mouth is described by what a viewer sees of it (:func:`describe_mouths`): its inner-lip
opening over the face height (measured as :func:`talkingface.features.lips.lip_opening` measures
real video) and the head's pose (the rigid points' shape once position, size and roll are taken out:
turning or nodding changes it). :func:`choose_path` picks one mouth per output frame by dynamic
programming over each frame's best candidates, for

- the opening the speech needs (:mod:`.mouth_targets`), in units of the library's own spread;
- the pose of the frame it goes on (a mouth seen turned does not fit a frontal face);
- continuity: the next frame of the same run of footage costs nothing, holding a frame a little, a
  jump to another place more, so that the mouth moves as the footage moved rather than flickering
  between nearest neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..features.lips import RIGID, lip_opening
from ..geometry import umeyama

#: The path's costs, in squared library standard deviations of opening (chosen on the tune speakers).
POSE_WEIGHT = 0.5
HOLD = 0.1
JUMP = 1.0
#: A jump also costs this times how far the mouth it lands on is from the one that would have followed
#: (squared, in library standard deviations): a jump between like mouths does not show.
JUMP_SHAPE = 1.0
CANDIDATES = 32
#: Farthest a mouth's pose may be from its frame's (the descriptor's distance, in units of the rigid
#: points' size): beyond it the mouth would be seen from another side, so it is no candidate. Chosen on
#: the tune speakers (0.2, 0.25 and 0.3 tried): a profile mouth on a three-quarter face lies at 0.25-0.3,
#: and the nearest footage pose is within 0.04-0.11 of most frames dubbed.
MAX_POSE_DISTANCE = 0.25
FAR = 1e6  # the cost of a mouth beyond it


@dataclass(frozen=True)
class MouthShapes:
    """Descriptors of a set of mouths: ``opening`` ``(N,)``, ``pose`` ``(N, 2 K)``, and ``run``
    ``(N,)``: mouths of one run are consecutive frames of footage (``-1`` for targets)."""

    opening: np.ndarray
    pose: np.ndarray
    run: np.ndarray

    def __len__(self) -> int:
        return len(self.opening)


def head_pose(landmarks: np.ndarray) -> np.ndarray:
    """``(N, 478, 2+)`` -> ``(N, 2 K)``: each frame's rigid points, moved, scaled and rotated onto the
    built-in face's (so only out-of-plane turns remain), in units of that face's size."""
    from ..face.template import template_points

    points = np.asarray(landmarks)[:, list(RIGID), :2].astype(np.float64)
    reference = template_points()[list(RIGID), :2].astype(np.float64) * (1.0, -1.0)
    reference = (reference - reference.mean(0)) / np.sqrt(((reference - reference.mean(0)) ** 2).sum(1).mean())
    out = np.full((len(points), 2 * len(RIGID)), np.nan)
    for k, frame in enumerate(points):
        if np.isfinite(frame).all():
            scale, rotation, shift = umeyama(frame, reference)
            out[k] = (frame @ (scale * rotation).T + shift - reference).reshape(-1)
    return out


def describe_mouths(landmarks: np.ndarray, run: np.ndarray | None = None) -> MouthShapes:
    """The descriptors of the mouths of ``landmarks`` ``(N, 478, 2+)`` (NaN where no face)."""
    points = np.asarray(landmarks)
    runs = np.full(len(points), -1, np.int64) if run is None else np.asarray(run, np.int64)
    return MouthShapes(lip_opening(points), head_pose(points), runs)


def choose_path(
    target: np.ndarray, pose: np.ndarray | None, library: MouthShapes, candidates: int = CANDIDATES
) -> np.ndarray:
    """``(T,)`` index of the library mouth for each output frame.

    Args:
        target: ``(T,)`` the opening the speech needs at each frame.
        pose: ``(T, 2 K)`` the pose of each frame the mouth goes on (rows of NaN, or None: any pose).
        library: the mouths (all usable: finite opening and pose).
        candidates: mouths kept per frame for the path (the best by opening and pose).
    """
    target = np.asarray(target, np.float64)
    count = len(library)
    if count == 0:
        raise InputError("the mouth library is empty")
    if not np.isfinite(target).all():
        raise InputError("the target openings must be finite")
    spread = max(float(np.std(library.opening)), 1e-4)
    keep = min(candidates, count)
    chosen = np.empty((len(target), keep), np.int64)
    local = np.empty((len(target), keep))
    for start in range(0, len(target), _CHUNK):  # bounded memory on long videos with long footage
        rows = slice(start, start + _CHUNK)
        cost = _target_cost(target[rows], None if pose is None else pose[rows], library, spread)
        best = (
            np.argpartition(cost, keep - 1, axis=1)[:, :keep]
            if keep < count
            else np.tile(np.arange(count), (len(cost), 1))
        )
        chosen[rows], local[rows] = best, np.take_along_axis(cost, best, axis=1)
    return _viterbi(chosen, local, library.run, library.opening / spread)


_CHUNK = 256  # output frames whose costs are weighed at once


def _target_cost(target: np.ndarray, pose: np.ndarray | None, library: MouthShapes, spread: float) -> np.ndarray:
    """``(T, N)`` how badly each library mouth fits each frame: its opening against the target, and its
    pose against the frame's."""
    cost: np.ndarray = ((library.opening[None, :] - target[:, None]) / spread) ** 2
    if pose is not None:
        pose = np.asarray(pose, np.float64)
        centred = library.pose - library.pose.mean(0)
        pose_spread = max(float(np.sqrt(np.mean(np.sum(centred**2, 1)))), 1e-3)
        known = np.isfinite(pose).all(1)
        near = pose[known]
        squared = np.maximum(
            (near**2).sum(1)[:, None] + (library.pose**2).sum(1)[None, :] - 2 * near @ library.pose.T, 0
        )
        # a mouth seen from another side is no candidate (unless no mouth is near: then the frame is left)
        cost[known] += POSE_WEIGHT * squared / pose_spread**2 + np.where(squared > MAX_POSE_DISTANCE**2, FAR, 0.0)
    return cost


def pose_distance(pose: np.ndarray, library: MouthShapes, path: np.ndarray) -> np.ndarray:
    """``(T,)`` how far each chosen mouth's pose is from its frame's ``pose`` ``(T, 2 K)`` (NaN where the
    frame's pose is unknown); compare with :data:`MAX_POSE_DISTANCE`."""
    distance: np.ndarray = np.sqrt(((np.asarray(pose, np.float64) - library.pose[path]) ** 2).sum(1))
    return distance


def _transition(previous: np.ndarray, current: np.ndarray, run: np.ndarray, opening: np.ndarray) -> np.ndarray:
    """``(K, K)`` cost of going from each mouth of ``previous`` to each of ``current`` (library indices)."""
    a, b = previous[:, None], current[None, :]
    after = np.minimum(a + 1, len(run) - 1)
    follows = (b == a + 1) & (run[after] == run[a]) & (run[a] >= 0)
    cost = JUMP + JUMP_SHAPE * (opening[after] - opening[b]) ** 2
    cost[b == a] = HOLD
    cost[follows] = 0.0
    return cost


def _viterbi(chosen: np.ndarray, local: np.ndarray, run: np.ndarray, opening: np.ndarray) -> np.ndarray:
    """The cheapest path through ``chosen`` ``(T, K)`` library indices with costs ``local`` ``(T, K)``."""
    frames = len(chosen)
    total = local[0].copy()
    back = np.zeros(chosen.shape, np.int64)
    for t in range(1, frames):
        step = total[:, None] + _transition(chosen[t - 1], chosen[t], run, opening)
        back[t] = np.argmin(step, axis=0)
        total = step[back[t], np.arange(chosen.shape[1])] + local[t]
    path = np.empty(frames, np.int64)
    k = int(np.argmin(total))
    for t in range(frames - 1, -1, -1):
        path[t] = chosen[t, k]
        k = back[t, k]
    return path
