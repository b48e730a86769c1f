"""The mouth-openness model in the curves: its output at the frames, the jaw it gives, and "auto"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from talkingface.animation.openness import (
    JAW_LEVEL,
    JAW_SPREAD,
    at_frames,
    jaw_from_openness,
    openness_frames,
    with_openness,
)
from talkingface.errors import InputError

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips"


def test_frames_take_the_mean_of_their_steps():
    steps = np.arange(101, dtype=np.float64)  # 1 s of steps, value = step index
    frames = at_frames(steps, 26, 25.0)
    assert frames[0] == pytest.approx(0.5)  # steps 0 and 1
    assert frames[10] == pytest.approx(np.mean([38, 39, 40, 41]))
    assert len(frames) == 26


def test_the_jaw_follows_openness_within_its_range():
    openness = np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 9.0])
    jaw = jaw_from_openness(openness)
    assert jaw[2] == pytest.approx(JAW_LEVEL) and jaw[3] == pytest.approx(JAW_LEVEL + JAW_SPREAD)
    assert jaw[0] == 0.0 and jaw[-1] == 1.0 and np.all(np.diff(jaw) >= 0)


def test_with_openness_replaces_the_share_of_the_jaw_it_is_given():
    from talkingface.animation import AnimationCurves
    from talkingface.speech import ARKIT_52

    values = np.full((5, 52), 0.3, np.float32)
    curves = AnimationCurves(25, ARKIT_52, values)
    openness = np.linspace(-1, 1, 5)
    full = with_openness(curves, openness)
    assert np.allclose(full.channel("jawOpen"), jaw_from_openness(openness))
    half = with_openness(curves, openness, 0.5)
    assert np.allclose(half.channel("jawOpen"), 0.5 * jaw_from_openness(openness) + 0.15)
    others = [k for k, name in enumerate(ARKIT_52) if name != "jawOpen"]
    assert np.array_equal(full.values[:, others], values[:, others])
    assert full.extra["openness"].shape == (5, 1)
    assert np.array_equal(curves.values, values)  # the input is left as it was
    with pytest.raises(InputError, match="openness must be"):
        with_openness(curves, openness[:3])


def test_closures_stay_only_where_the_jaw_is_shut():
    from talkingface.animation import AnimationCurves
    from talkingface.animation.openness import CLOSURE_JAW
    from talkingface.speech import ARKIT_52

    values = np.zeros((3, 52), np.float32)
    values[:, ARKIT_52.index("mouthClose")] = 1.0
    curves = AnimationCurves(25, ARKIT_52, values)
    low, high = CLOSURE_JAW
    openness = (np.array([low, (low + high) / 2, high + 0.1]) - JAW_LEVEL) / JAW_SPREAD  # jaws at, between, above
    closed = with_openness(curves, openness, closures=True).channel("mouthClose")
    assert closed == pytest.approx([1.0, 0.5, 0.0], abs=1e-5)
    assert np.all(with_openness(curves, openness).channel("mouthClose") == 1.0)  # kept unless asked


def test_auto_takes_the_jaw_from_the_openness_model(speech16k):
    from talkingface.animation.speech import speech_curves
    from talkingface.models.openness import load_openness

    audio = speech16k[: 4 * 16000]
    auto, _ = speech_curves(audio, 16000, 25)
    alone, _ = speech_curves(audio, 16000, 25, method="visemenet")
    openness = openness_frames(load_openness(), audio, 16000, auto.num_frames, 25.0)
    assert np.allclose(auto.channel("jawOpen"), jaw_from_openness(openness), atol=1e-6)
    others = [k for k, name in enumerate(auto.names) if name not in ("jawOpen", "mouthClose")]
    assert np.array_equal(auto.values[:, others], alone.values[:, others])  # the shapes are VisemeNet's
    closing = auto.channel("mouthClose")
    assert np.all(closing <= alone.channel("mouthClose") + 1e-6)  # closures only where VisemeNet hears them
    assert closing[auto.channel("jawOpen") > 0.15].max() == 0  # and never with an open jaw


@pytest.mark.slow
def test_the_built_in_model_follows_held_out_speakers_lips():
    """Four GRID speakers none of the shipped models trained on (C, D, E, F): the openness model's output
    follows the lips the tracker measures, closer than the loudness of the speech does."""
    names = ("lbax4n", "sbia1a", "swiz3n", "brbk7n")
    clips = [CLIPS / f"rizkiarm__LipNet__{n}.mpg" for n in names]
    if not all(c.is_file() for c in clips):
        pytest.skip("../shared/data is not beside the checkout")
    from talkingface.media import load_audio
    from talkingface.metrics.openness import correlation, measure_video
    from talkingface.models.openness import load_openness

    model = load_openness()
    ours, loudness = [], []
    for clip in clips:
        lips = measure_video(clip)
        audio = load_audio(clip, 16000)
        ours.append(correlation(openness_frames(model, audio, 16000, len(lips.opening), lips.fps), lips.opening))
        loud = at_frames(np.sqrt(np.convolve(audio**2, np.ones(160) / 160)[::160]), len(lips.opening), lips.fps)
        loudness.append(correlation(loud, lips.opening))
    assert np.median(ours) > 0.4
    assert np.median(ours) > np.median(loudness) + 0.05


def test_silence_and_hiss_leave_the_mouth_at_rest_and_say_so():
    import numpy as np

    from talkingface.animation.speech import speech_curves

    hiss = (np.random.default_rng(0).standard_normal(48000) * 10 ** (-80 / 20)).astype(np.float32)
    for audio in (np.zeros(48000, np.float32), hiss):  # the model hears each clip relative to itself
        curves, phonemes = speech_curves(audio, 16000, 30)
        assert curves.channel("jawOpen").max() == 0.0
        assert any("silent" in note for note in phonemes.notes)


def test_the_pauses_of_speech_rest_and_its_words_move(speech16k):
    import numpy as np

    from talkingface.animation.openness import frame_levels
    from talkingface.animation.speech import speech_curves

    audio = np.concatenate([np.zeros(16000, np.float32), np.asarray(speech16k[16000:64000], np.float32)])
    curves, phonemes = speech_curves(audio, 16000, 25)
    jaw = curves.channel("jawOpen")
    assert jaw[:20].max() == 0.0 and jaw[30:].std() > 0.05 and not phonemes.notes
    levels = frame_levels(audio, 16000, curves.num_frames, 25.0)
    assert levels[:20].max() < -100 and np.mean(levels[30:] > -70) > 0.95  # a quiet recording's words are not silence


def test_frame_levels_found_a_block_at_a_time_match_the_whole_signals_sums():
    from talkingface.animation.openness import frame_levels

    rng = np.random.default_rng(5)
    audio = (0.1 * rng.normal(size=16000 * 90)).astype(np.float32)
    audio[: 16000 * 2] = 0  # two silent seconds
    count, fps = 2800, 30.0  # past the audio's end: 3 s of frames with no samples
    levels = frame_levels(audio, 16000, count, fps)
    samples = audio.astype(np.float64)
    edges = np.minimum((np.arange(count + 1) / fps * 16000).astype(np.int64), len(samples))
    energy = np.concatenate([[0.0], np.cumsum(samples**2)])
    power = (energy[edges[1:]] - energy[edges[:-1]]) / np.maximum(edges[1:] - edges[:-1], 1)
    expected = 10 * np.log10(np.maximum(power, 1e-20))
    np.testing.assert_allclose(levels, expected, atol=1e-6)
    assert levels[:50].max() == -200 and levels[-50:].max() == -200 and levels[100:2600].min() > -30
