"""Frame sources shared by the pipelines."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import InputError

MEMORY_FOR_LOOPING = 1 << 30  # bytes of frames kept to play a short video back and forth


def looped_frames(path, num_video: int, num_out: int, info) -> Iterator[tuple[int, np.ndarray]]:
    """(source index, frame) for each output frame: the video as it is, or - when the speech is
    longer - played forwards and backwards (kept in memory when it fits, else restarted)."""
    from ..media import VideoReader, prefetch

    if num_video == 0:
        raise InputError(f"{path}: the video has no frames")
    if num_out <= num_video:
        for index, frame in enumerate(prefetch(VideoReader(path))):
            if index >= num_out:
                break
            yield index, frame
        return
    if _fits(num_video, info):
        frames = list(VideoReader(path))
        for index in looped_indices(len(frames), num_out, info):
            yield int(index), frames[index].copy()  # each output frame is its own (consumers may draw on it)
        return
    j = 0
    while j < num_out:
        for index, frame in enumerate(prefetch(VideoReader(path))):
            if j >= num_out:
                return
            yield index, frame
            j += 1


def _fits(num_video: int, info) -> bool:
    return bool(num_video * info.width * info.height * 3 <= MEMORY_FOR_LOOPING)


def looped_indices(num_video: int, num_out: int, info) -> np.ndarray:
    """``(num_out,)`` the source frame of each output frame, as :func:`looped_frames` plays them: in
    order, then back and forth (or, for a video too large to keep, from the start again)."""
    if num_out <= num_video:
        return np.arange(num_out)
    if not _fits(num_video, info):
        return np.arange(num_out) % max(1, num_video)
    period = max(1, 2 * num_video - 2)
    k = np.arange(num_out) % period
    indices: np.ndarray = np.where(k < num_video, k, period - k)
    return indices
