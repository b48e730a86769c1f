"""Audio features for talking-face models, equal to the references' numbers.

Each feature is a pure function (numpy or torch in, the same kind out) with a thin ``nn.Module``
holding its settings: :func:`wav2lip_mel` / :class:`Wav2LipMel` (Wav2Lip, SyncNet expert),
:func:`syncnet_mfcc` / :class:`SyncNetMfcc` (syncnet_python, LSE metrics), and per-video-frame
windows of either at any frame rate.
"""

from ..timebase import num_frames_for_duration
from .mel import WAV2LIP_MEL, MelConfig, Wav2LipMel, hann_window, mel_filterbank, wav2lip_mel
from .mfcc import SYNCNET_MFCC, MfccConfig, SyncNetMfcc, mfcc_filterbank, syncnet_mfcc
from .windows import (
    SYNCNET_MFCC_WINDOW,
    WAV2LIP_MEL_WINDOW,
    frame_windows,
    lipgan_windows,
    mel_windows,
    mfcc_windows,
    silence_mfcc,
    window_starts,
)

__all__ = [
    "SYNCNET_MFCC",
    "SYNCNET_MFCC_WINDOW",
    "WAV2LIP_MEL",
    "WAV2LIP_MEL_WINDOW",
    "MelConfig",
    "MfccConfig",
    "SyncNetMfcc",
    "Wav2LipMel",
    "frame_windows",
    "hann_window",
    "lipgan_windows",
    "mel_filterbank",
    "mel_windows",
    "mfcc_filterbank",
    "mfcc_windows",
    "num_frames_for_duration",
    "silence_mfcc",
    "syncnet_mfcc",
    "wav2lip_mel",
    "window_starts",
]
