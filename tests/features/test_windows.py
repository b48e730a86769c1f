"""Per-frame feature windows: reference placement at 25 fps, time-correct at any other rate."""

from fractions import Fraction

import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.features import (
    frame_windows,
    mel_windows,
    mfcc_windows,
    num_frames_for_duration,
    silence_mfcc,
    syncnet_mfcc,
    wav2lip_mel,
    window_starts,
)


def reference_mel_chunks(mel, fps):
    """Wav2Lip inference.py: walks frames until a window would pass the end, then takes the last 16."""
    chunks, multiplier, i = [], 80.0 / fps, 0
    while True:
        start = int(i * multiplier)
        if start + 16 > len(mel[0]):
            chunks.append(mel[:, len(mel[0]) - 16 :])
            return chunks
        chunks.append(mel[:, start : start + 16])
        i += 1


def test_mel_windows_equal_wav2lip_inference_at_25fps(speech16k):
    mel = wav2lip_mel(speech16k[: 16000 * 7 + 1234])
    chunks = reference_mel_chunks(mel, 25)
    ours = mel_windows(mel, len(chunks), 25, pad="clamp")
    assert ours.shape == (len(chunks), 80, 16)
    np.testing.assert_array_equal(ours, np.stack(chunks))


def test_mfcc_windows_equal_syncnet_python_at_25fps(speech16k):
    mfcc = syncnet_mfcc(speech16k[: 16000 * 4])
    num_frames = mfcc.shape[1] // 4 - 5  # syncnet_python's last evaluated frame
    ours = mfcc_windows(mfcc, num_frames, 25)
    for v in range(num_frames):
        np.testing.assert_array_equal(ours[v], mfcc[:, 4 * v : 4 * v + 20])


@pytest.mark.parametrize("fps", [25, 29.97, 30, 60, 23.976, 50])
def test_windows_start_at_the_frame_time_for_any_fps(fps):
    exact = {29.97: Fraction(30000, 1001), 23.976: Fraction(24000, 1001)}.get(fps, Fraction(fps))
    n = 20000  # over 5 minutes: no drift may build up
    for rate in (80, 100):
        starts = window_starts(n, fps, rate)
        frame_time = np.arange(n) / float(exact)
        start_time = starts / rate
        # The window starts at the last column at or before the frame's time.
        assert np.all(start_time <= frame_time + 1e-9)
        assert np.all(frame_time - start_time < 1 / rate)
        assert np.all(np.diff(starts) >= 0)


def test_hard_coded_25fps_would_drift_but_ours_does_not():
    # At 30 fps, frame 9000 is shown at 300 s; a 25 fps assumption would put its audio at 360 s.
    assert window_starts(9001, 30, 80)[9000] == 300 * 80
    assert window_starts(9001, 25, 80)[9000] == 360 * 80


@pytest.mark.parametrize("fps", [25, 29.97, 60])
def test_audio_shorter_than_video_pads_with_silence(speech16k, fps):
    wav = speech16k[16000 : 16000 * 3]  # 2 s of speech
    mel = wav2lip_mel(wav)
    num_frames = num_frames_for_duration(3.0, fps)  # the video runs 1 s longer
    windows = mel_windows(mel, num_frames, fps)
    assert windows.shape == (num_frames, 80, 16)
    after = window_starts(num_frames, fps, 80) >= mel.shape[1]
    assert after.sum() >= int(0.9 * float(fps))  # about the last second of frames
    assert np.all(windows[after] == -4.0)  # silence
    inside = window_starts(num_frames, fps, 80) + 16 <= mel.shape[1]
    for i in np.flatnonzero(inside)[::7]:
        start = window_starts(i + 1, fps, 80)[i]
        np.testing.assert_array_equal(windows[i], mel[:, start : start + 16])
    # MFCC pads with the MFCC of digital silence.
    mfcc = syncnet_mfcc(wav)
    mw = mfcc_windows(mfcc, num_frames, fps)
    np.testing.assert_allclose(mw[-1], np.repeat(silence_mfcc()[:, None], 20, 1))


@pytest.mark.parametrize("fps", [25, 30])
def test_audio_longer_than_video_uses_only_its_span(speech16k, fps):
    mel = wav2lip_mel(speech16k[: 16000 * 5])
    windows = mel_windows(mel, num_frames_for_duration(2.0, fps), fps)
    last_start = window_starts(len(windows), fps, 80)[-1]
    assert last_start < 2.0 * 80
    np.testing.assert_array_equal(windows[-1], mel[:, last_start : last_start + 16])


def test_offset_for_training_windows(speech16k):
    mel = wav2lip_mel(speech16k[:16000])
    shifted = mel_windows(mel, 10, 25, offset=-1)
    assert np.all(shifted[0][:, 0] == -4.0)  # the column before the audio is silence
    np.testing.assert_array_equal(shifted[0][:, 1:], mel[:, :15])
    np.testing.assert_array_equal(shifted[5], mel[:, 15:31])


@pytest.mark.parametrize(
    "seconds, fps, frames",
    [(2.0, 25, 50), (2.0, 29.97, 60), (2.0, 30, 60), (2.01, 25, 51), (1001 / 30000 * 7, 29.97, 7), (0.0, 25, 0)],
)
def test_frames_for_duration(seconds, fps, frames):
    assert num_frames_for_duration(seconds, fps) == frames


def test_bad_input():
    with pytest.raises(InputError, match=r"\(C, T\)"):
        frame_windows(np.zeros(10), 5, 25, 80, 16)
    with pytest.raises(InputError, match="at least 16"):
        frame_windows(np.zeros((2, 10)), 5, 25, 80, 16, pad="clamp")
    with pytest.raises(InputError, match="fps"):
        window_starts(5, -1, 80)
