import numpy as np
import pytest

from talkingface.errors import InputError
from talkingface.speech.espeak import pronounce, synthesize


def test_synthesis_gives_audio_and_exact_timings():
    speech = synthesize("The duke popped by to see the man.")
    assert speech.sample_rate == 22050 and speech.audio.dtype == np.float32
    seq = speech.phonemes
    assert seq.duration == pytest.approx(len(speech.audio) / 22050)
    assert [w.text for w in seq.words] == ["The", "duke", "popped", "by", "to", "see", "the", "man"]
    assert seq.arpabet().split()[:7] == ["DH", "AH0", "D", "UW1", "K", "P", "AA1"]
    starts = [p.start for p in seq.phonemes]
    assert starts == sorted(starts) and seq.phonemes[-1].end <= seq.duration + 1e-9
    # Every phoneme sits inside its word.
    for p in seq.phonemes:
        w = seq.words[p.word]
        assert w.start - 1e-3 <= p.start and p.end <= w.end + 1e-3


def test_timings_match_the_audio():
    speech = synthesize("she sees the moon", rate=140)
    audio, sr = speech.audio.astype(np.float64), speech.sample_rate

    def hf_share(p):
        seg = audio[int(p.start * sr) : int(p.end * sr)]
        spec = np.abs(np.fft.rfft(seg)) ** 2
        freqs = np.fft.rfftfreq(len(seg), 1 / sr)
        return spec[freqs > 3500].sum() / spec.sum()

    by_phone = {}
    for p in speech.phonemes.speech:
        by_phone.setdefault(p.phone, []).append(hf_share(p))
    # The hiss of the sibilants is where their phonemes are; the vowels are not hissy.
    assert min(by_phone["SH"] + by_phone["Z"]) > 0.2
    assert max(by_phone["IY"] + by_phone["UW"]) < 0.1


def test_voice_rate_and_pitch():
    slow = synthesize("hello there", rate=120)
    fast = synthesize("hello there", rate=300)
    assert len(fast.audio) < 0.7 * len(slow.audio)
    female = synthesize("hello there", voice="en-us+f3")
    assert female.phonemes.arpabet() == slow.phonemes.arpabet()
    assert not np.array_equal(female.audio[:2000], slow.audio[:2000])


def test_pronounce_unknown_words():
    assert [p for p, _ in pronounce("zyzzyva")][:2] == ["Z", "IH"]
    forty_two = [p for p, _ in pronounce("42")]
    assert forty_two[:3] == ["F", "AO", "R"] and forty_two[-2:] == ["T", "UW"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(text=""), "empty"),
        (dict(text="hi", voice="xx-nope"), "unknown espeak-ng voice"),
        (dict(text="hi", voice="en-us+nope"), "unknown espeak-ng voice variant 'nope'"),
        (dict(text="hi", voice="xx-nope+f2"), "unknown espeak-ng voice"),
        (dict(text="hi", rate=10), "rate"),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        synthesize(**kwargs)


@pytest.mark.parametrize("voice", ["en-gb", "en-gb-scotland", "en-029"])
def test_british_scottish_and_caribbean_voices(voice):
    """'en-gb' is a language, not a voice file's name; Scottish says ʉ, Caribbean a dental t̪."""
    speech = synthesize("It was the best of times, too true.", voice=voice)
    assert len(speech.phonemes.speech) >= 20 and len(speech.audio) > 16000


def test_a_variant_on_a_language_voice():
    """'en-gb+f2': the variant goes on the voice file the language picks (it is not a file name itself)."""
    plain, female = synthesize("hello there", voice="en-gb"), synthesize("hello there", voice="en-gb+f2")
    assert female.phonemes.arpabet() == plain.phonemes.arpabet()
    assert not np.array_equal(female.audio[:2000], plain.audio[:2000])


def test_every_espeak_language_maps_onto_our_phonemes():
    """Numbers and names read by each of espeak-ng's languages: every sound it names maps (the nearest
    English phoneme where English lacks it); no voice is refused."""
    from talkingface.speech.espeak import _LOCK, _engine, _ipa_clauses
    from talkingface.speech.phonemes import ipa_to_arpabet

    with _LOCK:
        engine = _engine()
        languages = sorted(engine.voice_files())
        assert len(languages) > 100
        for language in languages:
            engine.set_voice(language, 175, 50, 50, 0)
            ipa = " ".join(_ipa_clauses(engine, "1 2 3 4 5 6 7 8 9 10 13 20 47 99 100 1000. Maria, Peter."))
            assert len(ipa_to_arpabet(ipa)) >= 5, (language, ipa)


@pytest.mark.slow
def test_every_espeak_language_speaks_with_timed_phonemes():
    """Speech in every language (its numbers, and pseudo-words where it reads Latin letters): the
    phoneme names of espeak-ng's timing events map too (some voices write length as ':')."""
    import numpy as np

    from talkingface.data.visemenet import languages, utterance_text

    rng = np.random.default_rng(0)
    for language in languages():
        for _ in range(3):
            speech = synthesize(utterance_text(rng, language), voice=language)
            assert len(speech.phonemes.speech) >= 2, language


@pytest.mark.parametrize("voice", ["de", "fr", "ru", "cmn", "ar", "ja", "hi", "tr"])
def test_speech_in_other_languages_has_timed_phonemes(voice):
    speech = synthesize("1 2 3 4 5 6 7 8 9 10", voice=voice)
    assert len(speech.phonemes.speech) >= 10 and speech.phonemes.duration > 1.0


def test_sounds_english_lacks_take_the_nearest_english_phoneme():
    from talkingface.speech.phonemes import ipa_to_arpabet

    # German "über" (rounded y), French "rouge" (uvular ʁ), Russian palatalised t, Mandarin tone 5,
    # Portuguese nasal ũ, an espeak language switch.
    assert [p for p, _ in ipa_to_arpabet("ˈyːbɐ")] == ["UW", "B", "AH"]
    assert [p for p, _ in ipa_to_arpabet("ʁuʒ")] == ["G", "UW", "ZH"]
    assert [p for p, _ in ipa_to_arpabet("tʲˈa")] == ["T", "AA"]
    assert [p for p, _ in ipa_to_arpabet("jˈi5")] == ["Y", "IY"]
    assert [p for p, _ in ipa_to_arpabet("ˈũŋ")] == ["UW", "NG"]
    assert [p for p, _ in ipa_to_arpabet("(en)həlˈəʊ(de)")] == ["HH", "AH", "L", "OW"]
    # Kyrgyz's timing events write length with ':', Lule Sami's bilabial fricative is a Greek capital.
    assert [p for p, _ in ipa_to_arpabet("y:")] == ["UW"] and [p for p, _ in ipa_to_arpabet("Φa")] == ["F", "AA"]
    with pytest.raises(InputError, match="unknown IPA symbol"):
        ipa_to_arpabet("k☃t")


@pytest.mark.parametrize(
    "voice, text",
    [
        ("de", "Guten Morgen, ich möchte heute über Gesichter sprechen."),
        ("en-us", "Well, I think so. And you, my friend?"),
    ],
)
def test_a_word_after_a_pause_keeps_its_phonemes(voice, text):
    """espeak-ng marks a pause before a word's first phoneme (after a comma, before some vowels): the
    word is still the one its phonemes belong to."""
    spoken = synthesize(text, voice).phonemes
    words = [w.strip(",.?") for w in text.split()]
    assert [w.text for w in spoken.words] == words
    assert all(p.word is not None for p in spoken.phonemes)
