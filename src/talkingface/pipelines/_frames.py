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
    if num_video * info.width * info.height * 3 <= MEMORY_FOR_LOOPING:
        frames = list(VideoReader(path))
        period = max(1, 2 * len(frames) - 2)
        for j in range(num_out):
            k = j % period
            index = k if k < len(frames) else period - k
            yield index, frames[index].copy()  # each output frame is its own (consumers may draw on it)
        return
    j = 0
    while j < num_out:
        for index, frame in enumerate(prefetch(VideoReader(path))):
            if j >= num_out:
                return
            yield index, frame
            j += 1
