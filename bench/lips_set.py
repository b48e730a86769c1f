"""The real clips speech-driven mouths are measured on, by speaker and role.

Each clip is a real person speaking with their own voice. Its speaker has one role:

- ``train``: shippable footage the training recipes may use (GRID, Apache-2.0 / MIT clips);
- ``tune``: held-out speakers on which defaults and constants are chosen;
- ``test``: held-out speakers that are only reported, never used for a choice.

Clips come from ``../shared/data/clips`` (present in CI) and, where given, from a folder of more footage
extracted from public repositories (``--footage DIR`` or ``TALKINGFACE_FOOTAGE``; its ``INDEX.tsv`` names
each file's repository, licence and speaker). A clip whose file is absent is left out, and the bench says
how many it found. ``setting``: "studio" (GRID, MEAD: read or acted in front of a fixed camera) or "wild"
(interviews, talk shows, news, talks, phone video).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO.parent / "shared" / "data" / "clips"
ROLES = ("train", "tune", "test")


@dataclass(frozen=True)
class Clip:
    path: Path
    speaker: str
    role: str
    setting: str
    source: str  # the corpus or repository
    licence: str
    language: str = "en"

    @property
    def name(self) -> str:
        return self.path.name


# Shared clips by file-name prefix: (speaker or None to read it from the index, role, setting, source, language).
# GRID and the Apache/MIT talking heads that trained the shipped models are "train"; BBC (LRS2) and the
# VisualVoice interview are research-only, so evaluation only; MEAD is studio speech, also evaluation only.
_SHARED = (
    ("rizkiarm__LipNet__", "train", "studio", "GRID", "en"),
    ("AnshSareen__", "train", "studio", "GRID", "en"),
    ("OpenTalker__video-retalking__1", "train", "wild", "video-retalking", "en"),
    ("OpenTalker__video-retalking__2", "train", "wild", "video-retalking", "en"),
    ("OpenTalker__video-retalking__4", "train", "wild", "video-retalking", "en"),
    ("OpenTalker__video-retalking__5", "train", "wild", "video-retalking", "en"),
    ("tanshuai0219__EDTalk__pose_source2", "train", "wild", "EDTalk", "en"),
    ("tanshuai0219__EDTalk__uncrop_Obama", "tune", "wild", "EDTalk", "en"),
    ("bytedance__LatentSync__demo1", "tune", "wild", "LatentSync", "en"),
    ("bytedance__LatentSync__demo2", "test", "wild", "LatentSync", "en"),
    ("bytedance__LatentSync__demo3", "tune", "wild", "LatentSync", "en"),
    ("yerfor__MimicTalk__German", "test", "wild", "MimicTalk", "de"),
    ("facebookresearch__VisualVoice__", "test", "wild", "VisualVoice", "en"),
    ("smeetrs__deep_avsr__", "test", "wild", "LRS2", "en"),
    ("filby89__spectre__", "test", "studio", "MEAD", "en"),
    ("jixinya__EAMM__", "test", "studio", "MEAD", "en"),
)
# LRS2 speakers split between tuning and testing (the others test).
_LRS2_TUNE = ("00001", "00004", "00008", "00016", "00022")
# GRID speakers held out from training, so that GRID with its transcript is measured on unseen speakers:
# the clips named by their sentence code whose speakers have no other clip.
_GRID_ROLES = {
    **dict.fromkeys(("grid_C", "grid_D", "grid_E", "grid_F"), "tune"),
    **dict.fromkeys(("grid_G", "grid_H", "grid_I", "grid_J"), "test"),
}


def _index(folder: Path) -> dict[str, dict[str, str]]:
    index = folder / "INDEX.tsv"
    if not index.is_file():
        return {}
    with open(index, newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def _speaker(notes: str) -> str | None:
    for part in notes.split(";"):
        part = part.strip()
        if part.startswith("speaker "):
            return part.split()[1]
    return None


def shared_clips() -> list[Clip]:
    out = []
    index = _index(SHARED_CLIPS)
    for name, row in sorted(index.items()):
        path = SHARED_CLIPS / name
        if not path.is_file():
            continue
        for prefix, role, setting, source, language in _SHARED:
            if name.startswith(prefix):
                speaker = _speaker(row.get("notes", "")) or name
                if source == "LRS2" and name.split("__")[-1].split(".")[0] in _LRS2_TUNE:
                    role = "tune"
                role = _GRID_ROLES.get(speaker, role) if source == "GRID" else role
                out.append(Clip(path, speaker, role, setting, source, row.get("license", ""), language))
                break
    return out


def footage_folder(given: str | None = None) -> Path | None:
    folder = given or os.environ.get("TALKINGFACE_FOOTAGE")
    return Path(folder) if folder else None


# Footage speakers held out for tuning or testing (by the speaker ids of its INDEX.tsv); every other
# shippable speaker there is "train", and every evaluation-only one "test". LRW's word clips are BBC footage
# (research-only upstream) whatever their repository's licence; LivePortrait's two driving videos are left
# out: their source is unknown and one may be sung.
FOOTAGE_ROLES: dict[str, str] = {
    **dict.fromkeys(
        ("vox_david_beckham", "vox_patrick_stewart", "vox_mo_farah", "vox_pcavs_woman_a", "astorfi_sample_oldman"),
        "tune",
    ),
    **dict.fromkeys(
        ("vox_amy_adams", "vox_matt_damon", "vox_pcavs_731200067", "vox_pcavs_796100172", "wav2lip_test_man"), "test"
    ),
    **dict.fromkeys(("lrw_astorfi_1", "lrw_astorfi_2", "lrw_astorfi_3", "lrw_astorfi_4"), "test"),
    **dict.fromkeys(("liveportrait_d11_girl", "liveportrait_d20_man"), "excluded"),
}


def footage_clips(folder: Path | None) -> list[Clip]:
    if folder is None or not folder.is_dir():
        return []
    out = []
    for sub, trainable in (("clips", True), ("eval_only", False)):
        index = _index(folder) if sub == "clips" else _index_named(folder, "EVAL_ONLY.tsv")
        for name, row in sorted(index.items()):
            path = folder / sub / name
            if not path.is_file():
                continue
            speaker = row.get("speaker_id") or name
            role = FOOTAGE_ROLES.get(speaker, "train" if trainable else "test")
            if role == "excluded":
                continue
            setting = "studio" if row.get("setting") == "studio" else "wild"
            out.append(
                Clip(
                    path, speaker, role, setting, row.get("repo", ""), row.get("license", ""), row.get("language", "en")
                )
            )
    return out


def _index_named(folder: Path, name: str) -> dict[str, dict[str, str]]:
    index = folder / name
    if not index.is_file():
        return {}
    with open(index, newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def all_clips(footage: str | None = None) -> list[Clip]:
    """Every clip found, shared first."""
    return shared_clips() + footage_clips(footage_folder(footage))
