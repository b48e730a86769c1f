"""A face that lives: blinks at pauses, nods and brow raises on pitch accents, bounded head motion,
never touching the mouth; the rig's blinks move only the eyes and its brows only the brows."""

from __future__ import annotations

import numpy as np
import pytest

from talkingface.animation import JaliAnimator, with_idle_motion
from talkingface.animation.idle import MAX_DEGREES, prosody
from talkingface.speech import ARKIT_52

LIVELY = {"eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight"}


@pytest.fixture(scope="module")
def reading(speech16k):
    """The bundled 44 s reading and its curves at 25 fps (JALI on aligned phonemes)."""
    from tests.conftest import TWO_CITIES_TEXT

    from talkingface.speech.align import align

    phonemes = align(speech16k, TWO_CITIES_TEXT)
    return speech16k, phonemes, JaliAnimator().animate(phonemes, 25, speech16k, 16000)


def test_only_eyes_brows_and_head_change(reading):
    audio, _, curves = reading
    lively = with_idle_motion(curves, 0, audio, 16000)
    assert lively.names == curves.names and lively.num_frames == curves.num_frames
    for k, name in enumerate(ARKIT_52):
        if name not in LIVELY:
            np.testing.assert_array_equal(lively.values[:, k], curves.values[:, k])
    head = lively.extra["head"]
    assert head.shape == (curves.num_frames, 2) and np.abs(head).max() <= MAX_DEGREES
    assert head.std(0).min() > 0.3  # it does move


def test_blinks_fall_at_pauses_at_a_natural_rate(reading):
    audio, _, curves = reading
    lively = with_idle_motion(curves, 0, audio, 16000)
    blink = lively.channel("eyeBlinkLeft")
    closed = np.flatnonzero((blink[1:] >= 0.99) & (blink[:-1] < 0.99)) / 25  # moments the eyes shut
    minutes = curves.num_frames / 25 / 60
    assert 8 <= len(closed) / minutes <= 30  # people blink 10-20 times a minute while talking
    ends = prosody(audio, 16000, curves.num_frames, 25).phrase_ends
    assert len(ends) >= 5
    at_pause = [t for t in closed if np.any(np.abs(ends + 0.05 - t) < 0.1)]
    assert len(at_pause) >= len(closed) / 2


def test_accents_nod_and_raise_the_brows(reading):
    audio, phonemes, curves = reading
    found = prosody(audio, 16000, curves.num_frames, 25)
    assert len(found.accents) >= 10 and not found.voiced[:25].any()  # 1.17 s of silence first
    # Accents fall in speech: most on or next to an aligned vowel.
    vowels = [(p.start, p.end) for p in phonemes.speech if p.is_vowel]
    near = [a for a in found.accents if any(s - 0.08 <= a <= e + 0.08 for s, e in vowels)]
    assert len(near) >= 0.7 * len(found.accents)
    lively = with_idle_motion(curves, 0, audio, 16000)
    still = with_idle_motion(curves, 0)  # the same seed, no speech: only the sway
    nod = lively.extra["head"][:, 1] - still.extra["head"][:, 1]
    frames = np.round(found.accents * 25).astype(int)
    assert np.mean(nod[frames]) > 0.3  # heads move down with the accents
    assert lively.channel("browInnerUp").max() > 0.25 and still.channel("browInnerUp").max() == 0


def test_deterministic_for_a_seed(reading):
    audio, _, curves = reading
    a, b = with_idle_motion(curves, 4, audio, 16000), with_idle_motion(curves, 4, audio, 16000)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.extra["head"], b.extra["head"])
    assert not np.array_equal(a.extra["head"], with_idle_motion(curves, 5, audio, 16000).extra["head"])


def test_rig_blinks_move_only_the_eyes_and_brows_only_the_brows(photo):
    from talkingface.animation.rig import LandmarkRig
    from talkingface.face import detect_faces
    from talkingface.face.topology import face_topology

    rig = LandmarkRig(detect_faces(photo)[0].landmarks)
    topology = face_topology()
    eyes = np.concatenate([topology.group("left_eye"), topology.group("right_eye")])
    brows = np.concatenate([topology.group("left_eyebrow"), topology.group("right_eyebrow")])
    lips = np.concatenate([topology.group("lips_outer"), topology.group("lips_inner")])
    rest = rig()
    moved = np.linalg.norm(rig({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}) - rest, axis=1)
    assert moved[eyes].max() > 2 and np.delete(moved, eyes).max() == 0
    raised = rig({"browInnerUp": 1.0, "browOuterUpLeft": 1.0, "browOuterUpRight": 1.0}) - rest
    assert (raised[brows, 1] < -2).all()  # every brow point up by more than 2 px
    assert np.abs(raised[eyes]).max() == 0 and np.abs(raised[lips]).max() == 0


def test_live_link_csv_carries_the_head(reading, tmp_path):
    """Live Link Face's head columns hold the lively head's yaw and pitch (a quarter turn = 1); a
    still face leaves them 0."""
    import csv

    audio, _, curves = reading
    lively = with_idle_motion(curves, 0, audio, 16000)
    for source, moving in ((lively, True), (curves, False)):
        rows = list(csv.reader(source.save(tmp_path / "c.csv").read_text().splitlines()))
        columns = [rows[0].index(n) for n in ("HeadYaw", "HeadPitch", "HeadRoll")]
        head = np.array([[float(r[c]) for c in columns] for r in rows[1:]])
        if moving:
            np.testing.assert_allclose(head[:, :2], lively.extra["head"] / 90.0, atol=1e-5)
            assert np.abs(head[:, :2]).std(0).min() > 0.003
        else:
            assert not head.any()
        assert not head[:, 2].any()
