"""A synthetic 3D talking-face data set in the VOCASET/BIWI layout, made by espeak-ng and the JALI rig.

It stands in for VOCASET or BIWI when training FaceFormer (or testing the loaders of
:mod:`talkingface.data.mesh_sets`): every sequence is speech with exact phoneme timings (espeak-ng), its
JALI curves, the ARKit blendshape weights taken from them and the vertices of a face template moved by
those weights. Real speech with its transcript can be added; it is aligned with pocketsphinx and
animated the same way.

Layout written under ``root`` (the one VOCASET-style loaders read)::

    wav/<subject>_sentenceNN.wav            16 kHz mono, 16-bit PCM
    vertices_npy/<subject>_sentenceNN.npy   float32 (T, V*3), T = ceil(seconds * fps)
    templates.pkl                           pickle of {subject: (V, 3) float32 neutral face}
    split.json                              the set's own split: every speaker trains; the last
                                            eighth of the sentences (at least one) is held out

``NN`` is the two-digit sentence id (built-in or given sentences first, real speech after them); the
subject is the stem without its last ``_`` part. Vertices are stored at the layout's rate: 60 fps for
``"vocaset"`` (its loader keeps every second frame, 30 fps) and 25 fps for ``"biwi"``. Every frame at
zero weights equals the subject's template, so the offsets FaceFormer learns are the rig's motion.

Each speaker has an espeak-ng voice (variant, rate, pitch, pitch range), a speaking style (JALI timings,
JA/LI style shift, gains of the jaw and of the lip shapes) and a face of its own: the template with a
small smooth deformation (proportions and a few broad bumps). All of it comes from ``seed`` and the
speaker's index, so the same arguments write the same files.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import choices
from ..animation import JaliAnimator, JaliConfig
from ..animation.blendshapes import BlendshapeBasis, face_basis
from ..animation.mesh import Mesh
from ..animation.refine import check_seed, flame_size_basis
from ..animation.transfer import load_face_mesh, transfer_basis
from ..data.mesh_sets import INCOMPLETE, SetSplit, valid_subject, write_mesh_set_item, write_split, write_templates
from ..errors import EngineError, InputError
from ..speech import timed_phonemes
from ..speech.espeak import synthesize
from ..speech.phonemes import Phoneme, PhonemeSequence, Word
from ..speech.sentences import SENTENCES
from ..timebase import to_fps

SAMPLE_RATE = 16000
LAYOUT_FPS = {"vocaset": 60, "biwi": 25}

# espeak-ng voices (language + variant) and their base pitch (0-100), alternating male and female.
_VOICES = (
    ("en-us", 45),
    ("en-us+f3", 60),
    ("en+m3", 40),
    ("en-us+f2", 65),
    ("en-gb-x-rp+m7", 42),
    ("en-gb-x-gbcwmd+f4", 58),
    ("en-us+m2", 48),
    ("en+f1", 62),
    ("en-us+m4", 44),
    ("en-gb-x-gbclan+f2", 60),
    ("en-us+f5", 55),
    ("en-gb-x-rp+f3", 64),
)
_STYLE_ODDS = (0.1, 0.25, 0.3, 0.25, 0.1)
_PAD_SECONDS = (0.3, 0.6)  # silence before and after each synthetic sentence
_NOISE_FLOOR = 3e-4  # std of a faint seeded noise floor (about -70 dBFS), as real recordings have


# -- speakers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Speaker:
    """One synthetic speaker: voice, speaking style and face."""

    name: str
    voice: str
    rate: int
    pitch: int
    pitch_range: int
    jali: JaliConfig
    jaw_gain: float
    lip_gain: float
    basis: BlendshapeBasis  # on the speaker's own face


def _speaker(name: str, index: int, seed: int, basis: BlendshapeBasis) -> _Speaker:
    """The voice, style and face of speaker ``index`` (from ``seed`` and the index alone)."""

    rng = np.random.default_rng([seed, 1, index])
    voice, pitch = _VOICES[index % len(_VOICES)]
    tempo = rng.uniform(0.85, 1.15)  # slower or quicker articulation
    defaults = JaliConfig()
    jali = replace(
        defaults,
        onset=defaults.onset * tempo,
        decay=defaults.decay * tempo,
        lip_onset=defaults.lip_onset * tempo,
        lip_decay=defaults.lip_decay * tempo,
        sustain=float(rng.uniform(0.65, 0.85)),
        style=str(rng.choice(choices.STYLES, p=_STYLE_ODDS)),
    )
    rate, pitch = int(rng.integers(145, 196)), int(np.clip(pitch + rng.integers(-8, 9), 0, 100))
    pitch_range = int(rng.integers(35, 76))
    jaw_gain, lip_gain = float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.8, 1.25))
    # The face: other proportions and a few broad bumps (sizes in face widths); the shapes scale along.
    neutral = basis.mesh.vertices.astype(np.float64)
    width = float(np.ptp(neutral[:, 0]))
    centre = neutral.mean(axis=0)
    proportions = 1.0 + rng.uniform(-0.05, 0.05, 3)
    face = centre + (neutral - centre) * proportions
    for _ in range(4):
        middle = neutral[rng.integers(len(neutral))]
        sigma = rng.uniform(0.15, 0.35) * width
        offset = rng.normal(0.0, 0.008, 3) * width
        face += np.exp(-((neutral - middle) ** 2).sum(axis=1) / (2 * sigma**2))[:, None] * offset
    mesh = Mesh(face, basis.mesh.faces, basis.mesh.groups, f"{basis.mesh.name} as {name}")
    own = BlendshapeBasis(mesh, basis.names, basis.deltas * proportions.astype(np.float32))
    return _Speaker(name, voice, rate, pitch, pitch_range, jali, jaw_gain, lip_gain, own)


def _speaker_names(speakers) -> list[str]:
    if isinstance(speakers, (int, np.integer)) and not isinstance(speakers, bool):
        if not 1 <= speakers <= 26 * 27:
            raise InputError(f"speakers must be 1-{26 * 27} (or a list of names), got {speakers}")
        letters = [chr(ord("A") + k) for k in range(26)]
        names = letters + [a + b for a in letters for b in letters]
        return [f"Synth{names[k]}" for k in range(int(speakers))]
    if isinstance(speakers, str) or not isinstance(speakers, Sequence) or not speakers:
        raise InputError(f"speakers must be a count or a non-empty list of names, got {speakers!r}")
    names = list(speakers)
    for name in names:
        if not valid_subject(name):
            raise InputError(
                f"speaker names are letters, digits, '_', '-' and '.' (not first; no final '_'), got {name!r}"
            )
    if len(set(names)) != len(names):
        raise InputError(f"speaker names must be distinct, got {names}")
    return names


# -- the set -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticSet:
    """What :func:`make_synthetic_set` wrote.

    Attributes:
        root: the set's folder.
        subjects: subject names (keys of ``templates.pkl``).
        sequences: wav/npy pairs written.
        frames: vertex frames in all the npy files.
        fps: vertex frames per second.
        num_vertices: vertices per frame (V; the npy files have V*3 columns).
        seconds: audio in all the wav files.
    """

    root: Path
    subjects: tuple[str, ...]
    sequences: int
    frames: int
    fps: float
    num_vertices: int
    seconds: float


def make_synthetic_set(
    root: str | os.PathLike,
    sentences: int | Sequence[str] | None = None,
    speakers: int | Sequence[str] = 8,
    template="template",
    layout: str = "vocaset",
    fps: float | None = None,
    real_speech: Sequence[tuple[str | os.PathLike, str]] | None = None,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool | Callable[[int, int, str], None] | None = None,
) -> SyntheticSet:
    """Write a synthetic talking-face set (see the module docstring for the layout).

    Args:
        root: folder of the set; created if missing. One that already holds ``wav/``,
            ``vertices_npy/`` or ``templates.pkl`` is refused unless ``overwrite``.
        sentences: text for every speaker to say: a list, or how many of the built-in
            :data:`SENTENCES` (default all 40).
        speakers: how many speakers (named ``SynthA``, ``SynthB``, ...) or their names. Voices cycle
            through 12 espeak-ng voices; rate, pitch, style and face differ for every speaker.
        template: ``"template"`` (the built-in 478-vertex face), ``"flame"`` (the same face refined
            to FLAME's 5023 vertices, :func:`flame_size_template`), a :class:`Mesh`, or an OBJ/PLY
            path (y up, face towards +z); the rig is transferred to meshes other than the built-in ones.
        layout: ``"vocaset"`` (60 fps) or ``"biwi"`` (25 fps).
        fps: vertex frame rate instead of the layout's (its loader assumes the layout's rate).
        real_speech: ``(audio path, transcript)`` pairs of real speech, aligned with pocketsphinx and
            said by every speaker after the sentences (any format and rate; stored at 16 kHz).
        seed: the speakers' voices, styles and faces, and the pauses around sentences.
        overwrite: write into a folder that holds a set, replacing files of the same names (others
            are left as they are).
        progress: True for a progress line on stderr, or a function called after each sequence
            with (done, total, file stem).

    Returns:
        A :class:`SyntheticSet` summary.
    """

    root = Path(root)
    texts = _sentences(sentences)
    names = _speaker_names(speakers)
    seed = check_seed(seed)
    if layout not in LAYOUT_FPS:
        raise InputError(f"layout must be one of {', '.join(LAYOUT_FPS)}, got {layout!r}")
    rate = to_fps(LAYOUT_FPS[layout] if fps is None else fps)
    clips = _real_speech_pairs(real_speech)
    if len(texts) + len(clips) > 99:
        raise InputError(
            f"at most 99 sequences per speaker (two-digit ids), got {len(texts)} sentences and {len(clips)} real clips"
        )
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: is a file, expected a folder for the set")
    existing = [n for n in ("wav", "vertices_npy", "templates.pkl", INCOMPLETE) if (root / n).exists()]
    if existing and not overwrite:
        raise InputError(
            f"{root}: already holds a set ({', '.join(existing)}); choose another folder, or replace it with "
            "--overwrite (overwrite=True from Python)"
        )
    basis = _template_basis(template)
    real = [_aligned(path, text) for path, text in clips]  # fails before anything is written
    root.mkdir(parents=True, exist_ok=True)
    _claim(root)
    # If this stops half-way, the marker stays: load_mesh_set refuses the incomplete set.
    result = _make_items(root, names, seed, basis, texts, real, rate, layout, progress)
    (root / INCOMPLETE).unlink(missing_ok=True)
    return result


def _claim(root: Path) -> None:
    """Mark ``root`` as a set being made by this process (created exclusively, so two makers cannot
    both claim it); refuse if a live process is making one there, take over an interrupted one's."""
    marker = root / INCOMPLETE
    for _ in range(3):
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                other = int(marker.read_text().strip() or 0)
            except (OSError, ValueError):
                other = 0
            if other and other != os.getpid() and _alive(other):
                raise InputError(f"{root}: another make-dataset (process {other}) is writing a set there") from None
            marker.unlink(missing_ok=True)  # an interrupted run's: this one starts the set again
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return
    raise InputError(f"{root}: could not mark the folder as a set being made")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _make_items(root: Path, names, seed, basis, texts, real, rate, layout, progress) -> SyntheticSet:
    """The set's items, templates and split, written into ``root``."""
    cast = [_speaker(name, k, seed, basis) for k, name in enumerate(names)]
    total = len(cast) * (len(texts) + len(real))
    report = _reporter(progress, total)
    done = frames = 0
    seconds = 0.0
    try:
        with _SpeechWorker() as worker:
            for k, speaker in enumerate(cast):
                for j in range(len(texts) + len(real)):
                    sentence = f"sentence{j + 1:02d}"
                    if j < len(texts):
                        rng = np.random.default_rng([seed, 2, k, j])
                        audio, phonemes = _synthetic_speech(worker, texts[j], speaker, rng)
                    else:
                        audio, phonemes = real[j - len(texts)]
                    vertices = _vertices(audio, phonemes, speaker, rate)
                    # 16-bit PCM holds [-1, 1]: resampled real speech may overshoot by a hair
                    write_mesh_set_item(root, speaker.name, sentence, np.clip(audio, -1.0, 1.0), vertices)
                    frames += len(vertices)
                    seconds += len(audio) / SAMPLE_RATE
                    done += 1
                    report(done, f"{speaker.name}_{sentence}")
    finally:
        report(None, "")
    write_templates(root, {s.name: s.basis.mesh.vertices for s in cast})
    count = len(texts) + len(real)
    held_out = max(1, round(count / 8)) if count >= 2 else 0
    write_split(
        root,
        SetSplit(
            layout,
            tuple(names),
            tuple(names) if held_out else (),
            tuple(range(1, count - held_out + 1)),
            tuple(range(count - held_out + 1, count + 1)) if held_out else None,
        ),
    )
    return SyntheticSet(root, tuple(names), done, frames, float(rate), basis.mesh.num_vertices, seconds)


def _sentences(sentences) -> list[str]:
    if sentences is None:
        return list(SENTENCES)
    if isinstance(sentences, (int, np.integer)) and not isinstance(sentences, bool):
        if not 1 <= sentences <= len(SENTENCES):
            raise InputError(f"sentences must be 1-{len(SENTENCES)} built-in ones or a list of texts, got {sentences}")
        return list(SENTENCES[: int(sentences)])
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
        raise InputError(f"sentences must be a count or a non-empty list of texts, got {sentences!r}")
    for text in sentences:
        if not isinstance(text, str) or not re.search(r"[A-Za-z]", text):
            raise InputError(f"each sentence must be text with letters, got {text!r}")
    return list(sentences)


def _real_speech_pairs(real_speech) -> list[tuple[Path, str]]:
    if real_speech is None:
        return []
    if isinstance(real_speech, (str, bytes)) or not isinstance(real_speech, Sequence):
        raise InputError(f"real_speech must be a list of (audio path, transcript) pairs, got {real_speech!r}")
    pairs = []
    for item in real_speech:
        if (
            not isinstance(item, (tuple, list))
            or len(item) != 2
            or not isinstance(item[0], (str, os.PathLike))
            or not isinstance(item[1], str)
            or not item[1].strip()
        ):
            raise InputError(f"real_speech items must be (audio path, non-empty transcript), got {item!r}")
        pairs.append((Path(item[0]), item[1]))
    return pairs


def _template_basis(template) -> BlendshapeBasis:
    """The rig's blendshape basis on the chosen template."""

    if isinstance(template, str) and template == "template":
        return face_basis()
    if isinstance(template, str) and template == "flame":
        return flame_size_basis()
    if isinstance(template, (str, os.PathLike)) and Path(template).suffix.lower() in (".obj", ".ply"):
        template = load_face_mesh(template)
    if isinstance(template, Mesh):
        if template.num_vertices == 478 and np.array_equal(template.faces, face_basis().mesh.faces):
            return face_basis(template)  # the landmark topology: the rig applies directly
        return transfer_basis(face_basis(), template)
    raise InputError(f"template must be 'template', 'flame', a Mesh or an .obj/.ply path, got {template!r}")


def _aligned(path: Path, text: str):
    """Real speech at 16 kHz ``(N,) float32`` and its phonemes, aligned to the transcript."""
    from ..media import load_audio

    audio = load_audio(path, SAMPLE_RATE)
    phonemes = timed_phonemes(audio, SAMPLE_RATE, text)
    phonemes.duration = len(audio) / SAMPLE_RATE
    return audio, phonemes


def _synthetic_speech(worker: _SpeechWorker, text: str, speaker: _Speaker, rng: np.random.Generator):
    """espeak-ng speech of ``text`` at 16 kHz with silence around it, and its shifted phoneme timings."""
    from ..media.audio import resample

    speech = worker.synthesize(
        text, voice=speaker.voice, rate=speaker.rate, pitch=speaker.pitch, pitch_range=speaker.pitch_range
    )
    voiced = speech.audio
    if speech.sample_rate != SAMPLE_RATE:
        voiced = resample(voiced, speech.sample_rate, SAMPLE_RATE)
    lead, tail = (int(round(rng.uniform(*_PAD_SECONDS) * SAMPLE_RATE)) for _ in range(2))
    audio = np.concatenate([np.zeros(lead, np.float32), voiced, np.zeros(tail, np.float32)])
    audio = np.clip(audio + rng.normal(0.0, _NOISE_FLOOR, len(audio)), -1.0, 1.0).astype(np.float32)
    shift = lead / SAMPLE_RATE
    source = speech.phonemes
    phonemes = PhonemeSequence(
        phonemes=[Phoneme(p.phone, p.start + shift, p.end + shift, p.stress, p.word) for p in source.phonemes],
        words=[Word(w.text, w.start + shift, w.end + shift) for w in source.words],
        duration=len(audio) / SAMPLE_RATE,
        source=source.source,
    )
    return audio, phonemes


class _SpeechWorker:
    """espeak-ng in a child process of its own, so that a set does not depend on what was spoken before.

    espeak-ng carries its waveform state from one utterance to the next (the same text spoken twice
    in a row differs in phase and by a few samples), but starts from the same state in every new
    process. One fresh child per set makes the same arguments write the same files, whatever the
    calling process synthesised earlier. Jobs and results travel as pickles over the child's pipes.
    """

    def __enter__(self) -> _SpeechWorker:
        import subprocess
        import sys

        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        paths = [package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(paths)  # the child imports this very package
        command = [sys.executable, "-c", "from talkingface.builders.synthetic import _speech_worker; _speech_worker()"]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        return self

    def synthesize(self, text: str, **settings):
        """:func:`talkingface.speech.espeak.synthesize` in the child."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None  # opened as pipes
        try:
            pickle.dump((text, settings), stdin)
            stdin.flush()
            status, value = pickle.load(stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            raise EngineError(f"the espeak-ng worker process stopped (exit code {self.process.poll()})") from None
        if status == "error":
            raise value
        return value

    def __exit__(self, *exc) -> None:
        import subprocess

        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _speech_worker() -> None:
    """The child's loop: read ``(text, settings)`` pickles on stdin, answer ``(status, value)`` on stdout."""
    import sys

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed (by Python or the library) goes to stderr
    sys.stdout = sys.stderr
    jobs = sys.stdin.buffer
    while True:
        try:
            text, settings = pickle.load(jobs)
        except EOFError:
            return
        answer: tuple[str, object]
        try:
            answer = ("ok", synthesize(text, **settings))
        except Exception as error:  # sent back and raised in the parent
            answer = ("error", error)
        pickle.dump(answer, answers)
        answers.flush()


def _vertices(audio: np.ndarray, phonemes, speaker: _Speaker, fps) -> np.ndarray:
    """``(T, V*3) float32`` vertices of ``speaker``'s face saying ``phonemes``, T = ceil(seconds * fps)."""

    curves = JaliAnimator(speaker.jali).animate(phonemes, fps, audio, SAMPLE_RATE)
    return speaker.basis.evaluate(_linear_weights(curves, speaker)).reshape(curves.num_frames, -1)


def _linear_weights(curves, speaker: _Speaker) -> np.ndarray:
    """``(T, K)`` weights of the speaker's linear basis from ARKit curves, with the speaker's gains.

    ARKit's ``mouthClose`` is the share of the jaw opening that the lips close again (1 with the
    jaw at rest is no motion), while the linear basis holds its shape at ``jawOpen`` = 1; its weight
    is therefore ``mouthClose * jawOpen``. Without that, a closure at a small jaw opening (every m,
    b, p) would push the lower lip through the upper one.
    """
    names = speaker.basis.names
    weights = np.zeros((curves.num_frames, len(names)), np.float32)
    gains = {"jawOpen": speaker.jaw_gain, "mouthClose": 1.0}  # the closure is a share: no gain
    for k, name in enumerate(names):
        if name in curves.names:
            gain = gains.get(name, 1.0 if name.startswith("eye") else speaker.lip_gain)
            weights[:, k] = np.clip(curves.channel(name) * gain, 0.0, 1.0)
    if "jawOpen" in names and "mouthClose" in names:
        weights[:, names.index("mouthClose")] *= weights[:, names.index("jawOpen")]
    return weights


def _reporter(progress, total: int) -> Callable[[int | None, str], None]:
    """``report(done, stem)`` after each sequence; ``report(None, "")`` at the end."""
    if callable(progress):
        return lambda done, stem: None if done is None else progress(done, total, stem)
    if progress:
        from ..progress import Progress

        bar = Progress(total, "synthetic set")
        return lambda done, stem: bar.__exit__() if done is None else bar.update()
    return lambda done, stem: None
