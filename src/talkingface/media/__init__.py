"""Media in and out: video frames, audio samples and H.264 + AAC files, all through PyAV."""

from ..timebase import to_fps
from .audio import AudioInfo, audio_info, load_audio, resample, write_wav
from .image import fit_image, resize_image
from .prefetch import prefetch
from .tags import SYNTHETIC_TAGS
from .video import VideoInfo, VideoReader, probe_video, read_frames, read_image
from .writer import VIDEO_FORMATS, VideoFormat, VideoWriter, check_video_output, video_format, write_video

__all__ = [
    "SYNTHETIC_TAGS",
    "VIDEO_FORMATS",
    "AudioInfo",
    "VideoFormat",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "audio_info",
    "check_video_output",
    "fit_image",
    "load_audio",
    "prefetch",
    "probe_video",
    "read_frames",
    "read_image",
    "resample",
    "resize_image",
    "to_fps",
    "video_format",
    "write_video",
    "write_wav",
]
