"""Phoneme timings of real speech with pocketsphinx (its bundled US English models).

- :func:`align`: forced alignment of a transcript. A first pass aligns the words over the whole
  audio; the audio is then cut at the pauses it found and each piece aligned again at phone level
  (pocketsphinx's phone pass is reliable on utterances of a few seconds, not on long ones). Words the
  dictionary lacks get their pronunciation from espeak-ng.
- :func:`recognize`: phoneme recognition without a transcript (pocketsphinx's phone language
  model), combined with :func:`voice_activity` so that silences are silences.
"""

from __future__ import annotations

import itertools
import os
import re
from functools import lru_cache

import numpy as np

from ..errors import InputError
from ..optional import needs
from ..progress import stage
from .espeak import pronounce
from .phonemes import SILENCE, Phoneme, PhonemeSequence, Word, normalize_arpabet

SAMPLE_RATE = 16000  # pocketsphinx's acoustic model (talkingface.speech.SPEECH_RATE)
_FRAME_RATE = 100  # pocketsphinx frames per second
_MAX_PIECE_S = 8.0
_MIN_PAUSE_S = 0.12


def _pocketsphinx():
    with needs("speech", "speech alignment"):
        import pocketsphinx
    return pocketsphinx


@lru_cache(maxsize=1)
def _model_path() -> str:
    return _pocketsphinx().get_model_path()


def _decoder(**options):
    ps = _pocketsphinx()
    return ps.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **options)


# A lower silence probability keeps quiet word endings from being taken for pauses. When the default
# beams prune the true path (voices unlike the acoustic model's) the alignment is run again with wide
# ones: it searches a single path of words, so it can afford them, at about twice the time.
_ALIGN_OPTIONS = {"silprob": 1e-4}
_WIDE_BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}
# Mean acoustic log-likelihood per frame of a forced alignment: matching transcripts of real and
# synthetic speech score -1.4 to -2.5, a wrong text forced onto speech -3.1 and below.
_MIN_FIT = -2.9


_QUIET_PEAK, _NORMAL_PEAK = 0.05, 0.5


def _pcm(audio: np.ndarray) -> bytes:
    """16-bit PCM for pocketsphinx, over a faint noise floor.

    Digital silence (exact zeros, as synthesisers and edited files have) gives the recogniser
    features it never saw in training and breaks its alignments; real recordings always carry some
    noise. A fixed, seeded floor at -60 dBFS makes both kinds of audio behave alike.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError(f"audio must be (N,) samples with N > 0, got shape {audio.shape}")
    if not np.isfinite(audio).all():
        raise InputError("audio contains NaN or infinite samples")
    # A very quiet recording (peaks below -26 dBFS) is raised to a normal level first, or the floor
    # would bury it; the gain stops at 60 dB.
    peak = float(np.percentile(np.abs(audio), 99.9))
    if 1e-6 < peak < _QUIET_PEAK:
        audio = audio * min(_NORMAL_PEAK / peak, 1000.0)
    floor = np.random.default_rng(0).normal(0.0, 1e-3, audio.size).astype(np.float32)
    return (np.clip(audio + floor, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


def transcript_words(text: str) -> list[str]:
    """The words of a transcript as the aligner sees them: lower case, letters, digits, apostrophes."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))


#: Share of a transcript's distinct words missing from the English dictionary beyond which a failed
#: alignment is put down to the language, not the audio.
FOREIGN_SHARE = 0.4


def _not_english(decoder, words: list[str], transcript: str) -> str:
    """What to say when the ``transcript`` (its ``words``) fails to align and looks like another language
    than English: many words the English dictionary lacks, or letters English does not use ("" when
    it looks English)."""
    distinct = set(words)
    unknown = [w for w in distinct if decoder.lookup_word(w) is None]
    letters = sorted({c for c in transcript if c.isalpha() and not c.isascii()})
    if len(unknown) < FOREIGN_SHARE * len(distinct) and not letters:
        return ""
    signs = [f"{len(unknown)} of its {len(distinct)} distinct words are not in the English dictionary"]
    if letters:
        signs.append(f"it has the letters {' '.join(letters[:6])}")
    return (
        f"the transcript could not be aligned, and it looks like another language than English ({'; '.join(signs)}): "
        "give the transcript's language (--language de, fr, es, ...: any language espeak-ng speaks)"
    )


def _ensure_words(decoder, words: list[str]) -> None:
    """Add espeak-ng's pronunciation of every word missing from the dictionary."""

    for word in set(words):
        if decoder.lookup_word(word) is None:
            phones = [p for p, _ in pronounce(word)]
            if not phones:
                raise InputError(f"cannot pronounce the transcript word {word!r}")
            decoder.add_word(word, " ".join(phones), True)


def _decode(decoder, pcm: bytes, words: list[str] | None) -> bool:
    """One decoding pass: aligned to ``words``, or (None) the phone pass that refines the last one."""
    try:
        if words is None:
            decoder.set_alignment()
        else:
            decoder.set_align_text(" ".join(words))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
    except RuntimeError:
        return False
    return True


def _word_pass(decoder, pcm: bytes, words: list[str]) -> tuple[list[tuple[str, int, int]], float] | None:
    """Word-level forced alignment: [(word or '<sil>', start frame, end frame inclusive)] and the
    mean acoustic log-likelihood per frame of the path."""
    if not _decode(decoder, pcm, words):
        return None
    segments = decoder.seg()
    if segments is None or decoder.hyp() is None:
        return None
    out, log_likelihood, frames = [], 0.0, 0
    for s in segments:
        word = re.sub(r"\(\d+\)$", "", s.word)
        if word in ("<s>", "</s>"):
            continue
        out.append((word, s.start_frame, s.end_frame))
        if s.ascore > 0:  # long segments underflow the linear score; they are left out of the mean
            log_likelihood += float(np.log(s.ascore))
            frames += s.end_frame - s.start_frame + 1
    return out, log_likelihood / max(frames, 1)


def _phone_pass(decoder, pcm: bytes, words: list[str]) -> list[tuple[str, list[tuple[str, int, int]]]] | None:
    """Phone-level alignment of a short piece: [(word, [(phone, start frame, frames)])]."""
    if not _decode(decoder, pcm, words) or not _decode(decoder, pcm, None):
        return None
    alignment = decoder.get_alignment()
    if alignment is None:
        return None
    return [(re.sub(r"\(\d+\)$", "", w.name), [(p.name, p.start, p.duration) for p in w]) for w in alignment]


MAX_WORDS_PER_SECOND = 8  # far faster than anyone speaks (2-4 a second)


def align(audio: np.ndarray, transcript: str) -> PhonemeSequence:
    """Forced alignment of ``transcript`` to ``audio`` (``(N,)`` float at 16 kHz).

    Returns words and ARPAbet phonemes with times in seconds. Raises InputError when the transcript
    is empty or cannot be aligned to the audio (wrong text, no speech).
    """

    stage("aligning the transcript")
    pcm = _pcm(audio)
    duration = len(audio) / SAMPLE_RATE
    tokens = len(transcript.split())
    if tokens > MAX_WORDS_PER_SECOND * duration + 10:
        raise InputError(
            f"the transcript has {tokens} words, more than {duration:.1f} s of speech can say "
            f"(at most {MAX_WORDS_PER_SECOND} a second); is it the right text?"
        )
    words = transcript_words(transcript)
    if not words:
        raise InputError("the transcript has no words")
    foreign = None
    for beams in ({}, _WIDE_BEAMS):
        decoder = _decoder(**_ALIGN_OPTIONS, **beams)
        foreign = _not_english(decoder, words, transcript) if foreign is None else foreign
        _ensure_words(decoder, words)
        result = _word_pass(decoder, pcm, words)
        segments, fit = result if result is not None else ([], -np.inf)
        spoken = [s for s in segments if s[0] not in ("<sil>", "[NOISE]")]
        if len(spoken) == len(words):
            break
    else:
        raise InputError(foreign or "the transcript could not be aligned to the audio (does the audio say it?)")
    if fit < _MIN_FIT and foreign:
        raise InputError(foreign)
    if fit < _MIN_FIT:
        raise InputError(
            f"the transcript does not match the audio (fit {fit:.2f} per frame, a match is above "
            f"{_MIN_FIT}); is it the right text?"
        )
    _check_coverage(audio, spoken)
    # Phone-level alignment of short pieces needs the wide beams.
    phone_decoder = decoder if beams else _decoder(**_ALIGN_OPTIONS, **_WIDE_BEAMS)
    _ensure_words(phone_decoder, words)
    phonemes: list[Phoneme] = []
    out_words: list[Word] = []
    for piece in _pieces(segments):
        start_frame = piece[0][1]
        end_frame = piece[-1][2] + 1
        piece_words = [w for w, _, _ in piece if w != "<sil>"]
        if not piece_words:
            continue
        chunk = pcm[start_frame * 320 : end_frame * 320]  # 160 samples x 2 bytes per frame
        detailed = _phone_pass(phone_decoder, chunk, piece_words)
        if detailed is None or [w for w, _ in detailed if w != "<sil>"] != piece_words:
            detailed = _even_phones(phone_decoder, piece)
        for word, phones in detailed:
            if word == "<sil>" or not phones:
                continue
            index = len(out_words)
            w_start = (start_frame + phones[0][1]) / _FRAME_RATE
            w_end = (start_frame + phones[-1][1] + phones[-1][2]) / _FRAME_RATE
            out_words.append(Word(word, w_start, w_end))
            for name, frame, frames in phones:
                phone, stress = normalize_arpabet(name)
                if phone == SILENCE:
                    continue
                start = (start_frame + frame) / _FRAME_RATE
                phonemes.append(Phoneme(phone, start, start + frames / _FRAME_RATE, stress, index))
    return PhonemeSequence(phonemes=_clip(phonemes, duration), words=out_words, duration=duration, source="alignment")


def _check_coverage(audio: np.ndarray, spoken: list[tuple[str, int, int]]) -> None:
    """A transcript that says much less than the audio gets squeezed into a corner of it: refuse."""
    active = voice_activity(audio, SAMPLE_RATE)
    if active.sum() < 10:
        return
    covered = np.zeros(len(active), bool)
    for _, start, end in spoken:
        covered[start : end + 1] = True
    share = float((active & covered).sum() / active.sum())
    if share < 0.5:
        raise InputError(f"the transcript covers only {share:.0%} of the speech in the audio; is it the whole text?")


def _pieces(segments: list[tuple[str, int, int]]) -> list[list[tuple[str, int, int]]]:
    """Cut the word alignment at pauses into pieces of at most ~8 s (a long pause starts a piece)."""
    pieces: list[list[tuple[str, int, int]]] = []
    current: list[tuple[str, int, int]] = []
    for seg in segments:
        word, start, end = seg
        is_pause = word == "<sil>" and (end - start + 1) / _FRAME_RATE >= _MIN_PAUSE_S
        span = (end - current[0][1]) / _FRAME_RATE if current else 0.0
        if is_pause and current and (span >= 1.0 or (end - start + 1) / _FRAME_RATE >= 0.3):
            pieces.append(current)
            current = []
            continue
        if current and span > _MAX_PIECE_S and word != "<sil>":
            pieces.append(current)
            current = []
        current.append(seg)
    if current:
        pieces.append(current)
    return pieces


def _even_phones(decoder, piece: list[tuple[str, int, int]]) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Fallback when the phone pass fails: each word's dictionary phones share its span evenly."""
    base = piece[0][1]
    out = []
    for word, start, end in piece:
        if word == "<sil>":
            continue
        pronunciation = (decoder.lookup_word(word) or "").split()
        if not pronunciation:
            continue
        frames = end - start + 1
        bounds = np.linspace(0, frames, len(pronunciation) + 1).round().astype(int)
        out.append(
            (
                word,
                [
                    (p, start - base + int(a), int(b - a))
                    for p, a, b in zip(pronunciation, bounds[:-1], bounds[1:])
                    if b > a
                ],
            )
        )
    return out


def _clip(phonemes: list[Phoneme], duration: float) -> list[Phoneme]:
    out: list[Phoneme] = []
    for p in phonemes:
        start, end = min(p.start, duration), min(p.end, duration)
        if out and start < out[-1].end:
            start = out[-1].end
        if end > start:
            out.append(Phoneme(p.phone, start, end, p.stress, p.word))
    return out


#: The longest a recognised phoneme may last, seconds (held vowels in speech stay under it).
MAX_PHONEME_S = 0.4


def recognize(audio: np.ndarray) -> PhonemeSequence:
    """Phonemes of ``audio`` (``(N,)`` float at 16 kHz) without a transcript.

    Uses pocketsphinx's phone recogniser; anything outside the voice-activity mask is silence.
    Less accurate than :func:`align`: give a transcript when there is one.
    """

    stage("recognising speech")
    pcm = _pcm(audio)
    duration = len(audio) / SAMPLE_RATE
    active = voice_activity(audio, SAMPLE_RATE)
    decoder = _decoder(
        lm=None, allphone=os.path.join(_model_path(), "en-us", "en-us-phone.lm.bin"), beam=1e-20, pbeam=1e-20
    )
    phonemes = []
    # One utterance per stretch of speech (cut at pauses, at most MAX_UTTERANCE_S long): decoded whole,
    # a long recording loses the recogniser after some ten seconds and the rest goes unrecognised.
    for first, last in _utterances(audio, active):
        decoder.start_utt()
        decoder.process_raw(pcm[first * _FRAME_BYTES : last * _FRAME_BYTES], full_utt=True)
        decoder.end_utt()
        for s in decoder.seg() or []:
            try:
                phone, stress = normalize_arpabet(s.word)
            except InputError:
                continue  # noise and filler units
            if phone == SILENCE:
                continue
            frames = slice(first + s.start_frame, first + s.end_frame + 1)
            if active[frames].mean() < 0.5 if active[frames].size else True:
                continue
            start, end = frames.start / _FRAME_RATE, frames.stop / _FRAME_RATE
            # A phoneme far longer than any in speech is the recogniser losing track: it keeps its start,
            # and the voiced rest is filled below like any stretch it called silence (the mouth never
            # freezes).
            phonemes.append(Phoneme(phone, start, min(end, start + MAX_PHONEME_S), stress))
    found = _coverage(phonemes, active)
    phonemes = _fill_voiced_gaps(phonemes, active)
    notes = []
    if found < SPARSE_COVERAGE:
        notes.append(
            f"phoneme recognition found phonemes in only {found:.0%} of the speech (the rest moves with generic "
            "syllables): give what is said with --text or --transcript for better timing"
        )
    return PhonemeSequence(
        phonemes=_clip(phonemes, duration), words=[], duration=duration, source="recognition", notes=notes
    )


MAX_UTTERANCE_S = 8.0  # the longest stretch recognition decodes at once
_CUT_PAUSE_S = 0.3  # pauses at least this long separate utterances
_FRAME_BYTES = 2 * SAMPLE_RATE // _FRAME_RATE  # 16-bit samples per pocketsphinx frame


def _utterances(audio: np.ndarray, active: np.ndarray) -> list[tuple[int, int]]:
    """Frame ranges ``[first, last)`` covering the audio, cut in the middle of pauses of 0.3 s or more,
    and pieces longer than :data:`MAX_UTTERANCE_S` cut again at their quietest frame near the limit."""
    n = len(active)
    pause = int(_CUT_PAUSE_S * _FRAME_RATE)
    middles = [
        (start + stop) // 2 for start, stop in _runs(active, False) if stop - start >= pause and start > 0 and stop < n
    ]
    cuts = [0, *middles, n]
    hop = SAMPLE_RATE // _FRAME_RATE
    energy = np.add.reduceat(np.asarray(audio, np.float64) ** 2, np.arange(0, len(audio), hop))[:n]
    limit = int(MAX_UTTERANCE_S * _FRAME_RATE)
    pieces = []
    for first, last in itertools.pairwise(cuts):
        while last - first > limit:
            window = slice(first + limit // 2, first + limit)
            cut = window.start + int(np.argmin(energy[window]))
            pieces.append((first, cut))
            first = cut
        if last > first:
            pieces.append((first, last))
    return pieces


#: Share of the voiced frames recognition must cover with phonemes of its own before it is called sparse.
SPARSE_COVERAGE = 0.4


def _covered(phonemes: list[Phoneme], frames: int) -> np.ndarray:
    """``(frames,) bool``: the frames (at the recogniser's rate) that ``phonemes`` cover."""
    covered = np.zeros(frames, bool)
    for p in phonemes:
        covered[int(p.start * _FRAME_RATE) : int(np.ceil(p.end * _FRAME_RATE))] = True
    return covered


def _coverage(phonemes: list[Phoneme], active: np.ndarray) -> float:
    """Share of the voiced frames of ``active`` that ``phonemes`` cover (1 when nothing is voiced)."""
    if not active.any():
        return 1.0
    return float(_covered(phonemes, len(active))[active].mean())


def _fill_voiced_gaps(phonemes: list[Phoneme], active: np.ndarray, min_gap_s: float = 0.1) -> list[Phoneme]:
    """Voiced stretches the recogniser called silence (it does so on voices unlike its training
    data, such as synthetic speech) get open-close syllables, so the mouth moves while sound is made."""
    gaps = active & ~_covered(phonemes, len(active))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], gaps.astype(np.int8), [0]])))
    filled = list(phonemes)
    for start, stop in zip(edges[::2], edges[1::2]):
        if (stop - start) / _FRAME_RATE < min_gap_s:
            continue
        bounds = np.linspace(start, stop, max(1, round((stop - start) / 20)) + 1) / _FRAME_RATE
        for a, b in itertools.pairwise(bounds):
            split = a + 0.7 * (b - a)
            filled += [Phoneme("AH", float(a), float(split)), Phoneme("T", float(split), float(b))]
    return sorted(filled, key=lambda p: p.start)


def voice_activity(
    audio: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    frame_rate: int = _FRAME_RATE,
    min_speech_s: float = 0.06,
    min_pause_s: float = 0.15,
) -> np.ndarray:
    """Where speech is: ``(ceil(N / hop),) bool`` at ``frame_rate`` frames per second.

    Frame log-energy (25 ms windows) against a threshold between the clip's noise floor (10th
    percentile) and its speech level (95th percentile), with speech runs shorter than
    ``min_speech_s`` dropped and pauses shorter than ``min_pause_s`` bridged.
    """
    audio = np.asarray(audio, dtype=np.float64)
    hop = sample_rate // frame_rate
    n = int(np.ceil(len(audio) / hop))
    if n == 0:
        return np.zeros(0, bool)
    win = int(0.025 * sample_rate)
    padded = np.concatenate([audio, np.zeros(n * hop + win - len(audio))])
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n]
    energy = 10 * np.log10(np.var(frames, axis=1) + 1e-10)  # a DC offset is not sound
    floor, loud = np.percentile(energy, 10), np.percentile(energy, 95)
    if loud < -60 or loud - floor < 6:  # silence, or a signal without level changes
        return np.full(n, loud >= -60 and loud - floor < 6 and loud > -35)
    threshold = max(floor + 0.35 * (loud - floor), -55.0)
    active = energy > threshold
    active = _runs_filter(active, True, int(round(min_pause_s * frame_rate)))
    return _runs_filter(active, False, int(round(min_speech_s * frame_rate)))


def _runs(mask: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """The runs ``[start, stop)`` of ``value`` in a boolean ``mask``."""
    is_value = np.concatenate([[False], mask == value, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(is_value))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _runs_filter(mask: np.ndarray, fill: bool, max_len: int) -> np.ndarray:
    """Flip interior runs of ``not fill`` shorter than ``max_len`` to ``fill``.

    With ``fill=True`` short pauses inside speech are bridged; with ``fill=False`` short bursts
    of activity are dropped.
    """
    mask = mask.copy()
    for start, stop in _runs(mask, not fill):
        interior = start > 0 and stop < len(mask)
        if stop - start < max_len and (interior or not fill):
            mask[start:stop] = fill
    return mask
