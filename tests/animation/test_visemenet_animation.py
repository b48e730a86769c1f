"""VisemeNet's outputs as animation: the JALI pose mix, curves at any frame rate, phoneme groups, and
the shipped model on real speech (it loads, streams as it runs whole, and its mouth follows the sound)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkingface.animation import JaliConfig
from talkingface.animation.jali import pose_curves
from talkingface.animation.speech import resolve_method, speech_curves
from talkingface.animation.visemenet import VisemeNetFrames, frames_to_curves, frames_to_phonemes
from talkingface.errors import InputError
from talkingface.speech import ARKIT_52, JALI_VISEMES, VISEME_POSES

JAW = ARKIT_52.index("jawOpen")
CLOSE = ARKIT_52.index("mouthClose")


def one_hot(*names: str, weight: float = 1.0) -> np.ndarray:
    out = np.zeros((1, len(JALI_VISEMES)))
    for name in names:
        out[0, JALI_VISEMES.index(name)] = weight
    return out


def test_pose_mix_follows_the_jali_rules():
    normal = np.array([[0.45, 0.5]])
    ah = pose_curves(one_hot("Ah"), normal)[0]
    assert ah[JAW] == pytest.approx(VISEME_POSES["Ah"]["jawOpen"], abs=1e-5)
    wide = pose_curves(one_hot("Ah"), np.array([[0.9, 0.5]]))[0]
    assert wide[JAW] > ah[JAW] + 0.1  # JA scales the jaw
    closed = pose_curves(one_hot("Ah", "MBP"), normal)[0]
    assert closed[JAW] < 0.05 and closed[CLOSE] == pytest.approx(VISEME_POSES["MBP"].get("mouthClose", 0), abs=1e-5)
    assert pose_curves(one_hot("Ah", "S"), normal)[0][JAW] <= 0.1 + 1e-6  # sibilants narrow the jaw
    assert not pose_curves(np.zeros((3, 20)), np.full((3, 2), 0.5)).any()
    with pytest.raises(InputError):
        pose_curves(np.zeros((3, 19)), np.zeros((3, 2)))


def frames(steps: int, loud: slice) -> VisemeNetFrames:
    """Outputs of a clip whose steps ``loud`` say "ah" (open lips, group AA) and the rest is silence."""
    from talkingface.speech.visemes import GROUP_OF

    activations, values = np.zeros((steps, 20)), np.zeros((steps, 20))
    activations[loud, JALI_VISEMES.index("Ah")] = 1.0
    values[loud, JALI_VISEMES.index("Ah")] = 0.9
    lips = np.zeros((steps, 80))
    from talkingface.features.lips import lip_points

    lips[loud, 40 + list(lip_points()).index(14)] = 0.8  # the lower lip drops
    groups = np.zeros((steps, 21))
    groups[:, 0] = 1
    groups[loud] = 0
    groups[loud, GROUP_OF["AA"]] = 1
    return VisemeNetFrames(lips, groups, np.full((steps, 2), 0.45), activations, values)


def test_curves_at_any_frame_rate_open_where_the_speech_is():
    out = frames(200, slice(80, 140))  # 2 s, "ah" from 0.8 to 1.4 s
    for fps in (25, 30, 60):
        curves = frames_to_curves(out, 2.0, fps)
        assert curves.num_frames == 2 * fps and curves.extra["visemes"].shape == (2 * fps, 20)
        jaw = curves.channel("jawOpen")
        t = np.arange(curves.num_frames) / fps
        assert jaw[(t > 0.9) & (t < 1.3)].min() > 0.2 and jaw[(t < 0.6) | (t > 1.6)].max() < 0.02
    fixed = frames_to_curves(out, 2.0, 30, JaliConfig(jaw=0.2, lip=0.3))
    assert np.allclose(fixed.extra["jali"], [0.2, 0.3])
    loud = frames_to_curves(out, 2.0, 30, JaliConfig(style="enunciate")).channel("jawOpen")
    assert loud.max() > frames_to_curves(out, 2.0, 30).channel("jawOpen").max()


def test_phoneme_groups_become_timed_phonemes():
    sequence = frames_to_phonemes(frames(200, slice(80, 140)), 2.0)
    assert sequence.source == "visemenet" and [p.phone for p in sequence.phonemes] == ["AA"]
    assert sequence.phonemes[0].start == pytest.approx(0.8, abs=0.03) and sequence.phonemes[0].end == pytest.approx(
        1.4, abs=0.03
    )


def test_method_choice():
    assert resolve_method("auto", "some words") == "jali" and resolve_method("auto", None) == "visemenet"
    assert resolve_method("auto", "  ") == "visemenet" and resolve_method("jali", None) == "jali"
    with pytest.raises(InputError, match="a transcript is not used"):
        resolve_method("visemenet", "some words")
    with pytest.raises(InputError, match="method must be one of"):
        resolve_method("magic", None)


# -- the shipped model -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    from talkingface.models.visemenet import builtin_visemenet

    return builtin_visemenet()


def test_shipped_model_streams_as_it_runs_whole(shipped, speech16k):
    from talkingface.features.visemenet import visemenet_features
    from talkingface.models.visemenet import VisemeNetStream

    features = torch.from_numpy(visemenet_features(speech16k[16000 : 16000 * 4]))[None]
    with torch.no_grad():
        whole = shipped(features)
    stream = VisemeNetStream(shipped)
    parts = [stream.push(features[:, k : k + 7]) for k in range(0, features.shape[1], 7)] + [stream.finish()]
    jali = torch.cat([p.jali for p in parts], 1)
    assert jali.shape == whole.jali.shape
    torch.testing.assert_close(jali, whole.jali, atol=1e-5, rtol=1e-4)


def test_shipped_model_moves_the_mouth_with_real_speech(shipped, speech16k):
    """The bundled reading: 1.17 s of silence, then speech. Without the transcript, the jaw opens in the
    speech, rests in the silence, and is lower at the aligned bilabials than at the aligned vowels; over
    all 44 s no phoneme group lasts longer than a spoken sound can."""
    from tests.conftest import TWO_CITIES_TEXT

    from talkingface.speech.align import align

    curves, phonemes = speech_curves(speech16k, 16000, 25, method="visemenet")  # all 44 s
    assert phonemes.source == "visemenet" and len(phonemes.speech) > 150
    assert max(p.duration for p in phonemes.speech) < 0.6  # no frozen stretch anywhere
    audio = speech16k[: 16000 * 12]
    jaw = curves.channel("jawOpen")[: 12 * 25]
    assert jaw[:25].max() < 0.1 and jaw[35:].mean() > 2 * jaw[:25].mean() + 0.05
    words = TWO_CITIES_TEXT.split()
    timed = align(audio, " ".join(words[:30]))
    at = {"closed": [], "open": []}
    for p in timed.speech:
        if p.end > 11:
            break
        frame = int(round((p.start + p.end) / 2 * 25))
        if p.phone in ("M", "B", "P"):
            at["closed"].append(jaw[frame])
        elif p.phone in ("AA", "AE", "AH", "AO", "AY", "AW"):
            at["open"].append(jaw[frame])
    assert len(at["closed"]) >= 5 and np.mean(at["closed"]) < np.mean(at["open"])


def test_a_long_clip_runs_in_pieces_with_the_same_outputs(speech16k, monkeypatch):
    """Over a minute, the network runs a piece at a time (bounded memory); the outputs equal those of
    one whole run."""
    import talkingface.animation.visemenet as animation
    from talkingface.models.visemenet import builtin_visemenet

    model = builtin_visemenet()
    clip = speech16k[: 16000 * 12]
    whole = animation.predict(model, clip)
    monkeypatch.setattr(animation, "_WHOLE_STEPS", 250)  # 2.5 s pieces of the 12 s clip
    pieces = animation.predict(model, clip)
    for name in ("lips", "groups", "jali", "activations", "values"):
        np.testing.assert_allclose(getattr(pieces, name), getattr(whole, name), atol=1e-4)
