"""The JALI animator's rules, checked on espeak-ng speech (exact timings) and on made-up sequences."""

import csv
import io
from fractions import Fraction

import numpy as np
import pytest

from talkingface.animation import AnimationCurves, JaliAnimator, JaliConfig
from talkingface.errors import InputError
from talkingface.speech.espeak import synthesize
from talkingface.speech.phonemes import Phoneme, PhonemeSequence


def animate(text, fps=30, **config):
    speech = synthesize(text)
    curves = JaliAnimator(JaliConfig(**config)).animate(speech.phonemes, fps, speech.audio, speech.sample_rate)
    return speech, curves


def frame_of(curves, seconds):
    return min(curves.num_frames - 1, int(round(seconds * float(curves.fps))))


def test_bilabials_close_the_lips_at_their_apex():
    speech, curves = animate("Maybe the boy put a map by the pump.")
    close, jaw = curves.channel("mouthClose"), curves.channel("jawOpen")
    bilabials = [p for p in speech.phonemes.speech if p.phone in ("M", "B", "P")]
    assert len(bilabials) >= 7
    fps = float(curves.fps)
    for p in bilabials:
        # However short the closure, some frame shows it.
        frames = range(int(np.ceil(p.start * fps)), int(np.floor(max(p.end, p.start + 1 / fps) * fps)) + 1)
        assert any(close[f] >= 0.9 and jaw[f] <= 0.05 for f in frames), (p, close[list(frames)], jaw[list(frames)])


def test_pop_man_is_one_long_closure():
    speech, curves = animate("pop man")
    phones = speech.phonemes.speech
    assert [p.phone for p in phones] == ["P", "AA", "P", "M", "AE", "N"]
    second_p, m = phones[2], phones[3]
    span = slice(frame_of(curves, second_p.start), frame_of(curves, m.end))
    assert curves.channel("mouthClose")[span].min() >= 0.9  # no opening between /p/ and /m/
    mbp = curves.extra["visemes"][:, curves.extra_names["visemes"].index("MBP")]
    runs = np.flatnonzero(np.diff((mbp > 0.99).astype(int)) == 1)
    assert len(runs) + int(mbp[0] > 0.99) == 2  # the first /p/, then /p m/ merged


def test_duke_consonants_take_the_vowels_lip_shape():
    speech, curves = animate("duke")
    d, uw, k = speech.phonemes.speech
    pucker = curves.channel("mouthPucker")
    apex = pucker[frame_of(curves, uw.start + 0.3 * (uw.end - uw.start))]
    assert apex > 0.6
    for consonant in (d, k):
        middle = frame_of(curves, (consonant.start + consonant.end) / 2)
        assert pucker[middle] >= 0.8 * apex, consonant


def test_lip_heavy_visemes_anticipate():
    speech, curves = animate("a shoe")
    sh = next(p for p in speech.phonemes.speech if p.phone == "SH")
    funnel = curves.channel("mouthFunnel")
    before = frame_of(curves, sh.start - 0.1)
    assert funnel[before] > 0.2  # the lips round 100 ms before the sound


def test_sibilants_narrow_the_jaw_and_labiodentals_tuck_the_lip():
    speech, curves = animate("she sells five vases")
    jaw, roll = curves.channel("jawOpen"), curves.channel("mouthRollLower")
    for p in speech.phonemes.speech:
        apex = frame_of(curves, (p.start + p.end) / 2)
        if p.phone in ("S", "SH", "Z"):
            assert jaw[apex] <= 0.11, p
        if p.phone in ("F", "V"):
            assert roll[apex] >= 0.4 and jaw[apex] <= 0.1, p


def test_short_obstruents_do_not_move_the_jaw():
    def sequence(t_length):
        return PhonemeSequence(
            [
                Phoneme("AA", 0.1, 0.5, 1, 0),
                Phoneme("T", 0.5, 0.5 + t_length, None, 0),
                Phoneme("AA", 0.5 + t_length, 0.9, 1, 0),
            ],
            duration=1.2,
        )

    animator = JaliAnimator()
    short = animator.animate(sequence(0.02), 30).channel("jawOpen")
    long = animator.animate(sequence(0.15), 30).channel("jawOpen")
    vowel_level = short[frame_of(animator.animate(sequence(0.02), 30), 0.3)]
    assert short[15:18].min() > 0.95 * vowel_level  # the jaw stays open through a 20 ms /t/
    assert long[16:21].min() < 0.8 * vowel_level  # a 150 ms /t/ lets it rise


def test_tongue_only_consonants_leave_the_lips_to_their_neighbours():
    seq = PhonemeSequence(
        [Phoneme("UW", 0.1, 0.4, 1, 0), Phoneme("L", 0.4, 0.55, None, 0), Phoneme("UW", 0.55, 0.9, 1, 0)], duration=1.2
    )
    pucker = JaliAnimator().animate(seq, 30).channel("mouthPucker")
    assert pucker[12:17].min() > 0.8 * pucker[8]


def test_silence_keeps_the_mouth_closed():
    empty = JaliAnimator().animate(PhonemeSequence([], duration=2.0), 25)
    assert empty.values.shape == (50, 52) and not empty.values.any()
    seq = PhonemeSequence([Phoneme("AA", 0.2, 0.5, 1, 0), Phoneme("AA", 2.5, 2.8, 1, 1)], duration=3.0)
    curves = JaliAnimator().animate(seq, 30)
    assert not curves.values[30:60].any()  # a 2 s pause: neutral mouth
    assert curves.channel("jawOpen")[10] > 0.3


@pytest.mark.parametrize("fps", [24, 25, 29.97, 30, 60])
def test_any_fps_gives_curves_of_the_right_length(fps):
    speech = synthesize("hello there")
    curves = JaliAnimator().animate(speech.phonemes, fps, speech.audio, speech.sample_rate)
    expected = int(
        np.ceil(speech.phonemes.duration * float(Fraction(fps) if fps != 29.97 else Fraction(30000, 1001)) - 1e-6)
    )
    assert curves.num_frames == expected and curves.values.shape == (expected, 52)
    reference = JaliAnimator().animate(speech.phonemes, 60, speech.audio, speech.sample_rate).channel("jawOpen")
    t = np.arange(curves.num_frames) / float(curves.fps)
    resampled = np.interp(t, np.arange(len(reference)) / 60, reference)
    assert np.abs(curves.channel("jawOpen") - resampled).max() < 0.05  # the same motion, sampled anew


def test_styles_and_audio_drive_the_jaw():
    speech = synthesize("the dark ocean was calm and wide")
    means = {
        style: JaliAnimator(JaliConfig(style=style))
        .animate(speech.phonemes, 30, speech.audio, 22050)
        .channel("jawOpen")
        .mean()
        for style in ("mumble", "normal", "enunciate")
    }
    assert means["mumble"] < means["normal"] < means["enunciate"]
    # A quieter second half opens the jaw less than the same words spoken louder.
    audio = speech.audio.copy()
    half = len(audio) // 2
    quiet = audio.copy()
    quiet[half:] *= 0.1
    loud = JaliAnimator().animate(speech.phonemes, 30, audio, 22050).channel("jawOpen")
    soft = JaliAnimator().animate(speech.phonemes, 30, quiet, 22050).channel("jawOpen")
    second = slice(frame_of_seconds(half / 22050), None)
    assert soft[second].max() < 0.8 * loud[second].max()
    with pytest.raises(InputError, match="style"):
        JaliConfig(style="shout")


def frame_of_seconds(seconds, fps=30):
    return int(round(seconds * fps))


def test_live_link_csv_and_json(tmp_path):
    _speech, curves = animate("hello there, how are you today?", fps=30)
    text = curves.save(tmp_path / "c.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "EyeLookDownLeft"]
    assert "JawOpen" in rows[0] and "MouthClose" in rows[0] and rows[0][-1] == "RightEyeRoll"
    assert len(rows[0]) == 63 and len(rows) == curves.num_frames + 1
    assert rows[1][0] == "00:00:00:00.000" and rows[31][0] == "00:00:01:00.000" and rows[2][1] == "61"
    column = rows[0].index("JawOpen")
    np.testing.assert_allclose([float(r[column]) for r in rows[1:]], curves.channel("jawOpen"), atol=1e-5)
    back = AnimationCurves.load_json(curves.save(tmp_path / "c.json"))
    assert back.fps == curves.fps and back.names == curves.names
    np.testing.assert_allclose(back.values, curves.values, atol=1e-5)
    assert back.extra["visemes"].shape == (curves.num_frames, 20)
    with pytest.raises(InputError, match=".json or .csv"):
        curves.save(tmp_path / "c.txt")
