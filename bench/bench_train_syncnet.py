"""Training throughput of the lip-sync expert recipe and of the built-in sync model's recipe
(``train sync-lips``) on this machine, data loading included.

Real clips (GRID speakers from ``../shared/data/clips``) are preprocessed into a temporary set; then,
in samples (pairs) per second at the reference's batch of 64:
- loader only: drawing true/shifted pairs from the decoded clips (``SyncPairs.sample``);
- step only: forward, backward and Adam step of the full-size expert on a batch drawn beforehand;
- the whole step: both, as ``talkingface train syncnet`` runs them.
For ``sync-lips`` a sample is one lip window matched against its 31 audio windows, 8 runs of 24 per
step as the recipe's defaults. Goal: the loader is not the bottleneck (loader-only samples/s at least 5x
the step-only rate).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import REPO

CLIPS = REPO.parent / "shared" / "data" / "clips"
GRID = ["rizkiarm__LipNet__bbaf2n.mpg", "rizkiarm__LipNet__lbax4n.mpg", "rizkiarm__LipNet__pwij3p.mpg"]


def main(argv: list[str] | None = None) -> bool:
    from talkingface.builders.preprocess import PreprocessConfig, preprocess
    from talkingface.data.lrs2 import read_filelist
    from talkingface.models import create_model
    from talkingface.models.syncnet import SyncNetColor
    from talkingface.train.syncnet import SyncPairs

    if not CLIPS.is_dir():
        print(f"expert training throughput: skipped ({CLIPS} is absent)")
        return True
    batch = 64
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "set"
        preprocess([CLIPS / name for name in GRID], root, PreprocessConfig(split=(1, 0, 0)))
        pairs = SyncPairs(read_filelist(root, "train"))
        rng = np.random.default_rng(0)
        pairs.sample(rng, batch)  # decodes the clips once
        start = time.perf_counter()
        for _ in range(20):
            pairs.sample(rng, batch)
        loader = 20 * batch / (time.perf_counter() - start)
        torch.manual_seed(0)
        model = create_model("syncnet.expert").train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        mel, face, labels = pairs.sample(rng, batch)

        def step(mel, face, labels) -> None:
            loss = SyncNetColor.sync_loss(*model(mel, face), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        step(mel, face, labels)
        start = time.perf_counter()
        for _ in range(3):
            step(mel, face, labels)
        step_only = 3 * batch / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(3):
            step(*pairs.sample(rng, batch))
        whole = 3 * batch / (time.perf_counter() - start)
        lips = _sync_lips(read_filelist(root, "train"))
    ok = loader >= 5 * step_only
    print(
        f"{'train syncnet (expert), batch 64':<34} loader {loader:7.0f} samples/s   step {step_only:5.1f} samples/s   "
        f"whole {whole:5.1f} samples/s   (goal: loader >= 5x step) {'ok' if ok else 'MISSED'}"
    )
    ok_lips = lips[0] >= 5 * lips[1]
    print(
        f"{'train sync-lips, 8 x 24 windows':<34} loader {lips[0]:7.0f} samples/s   step {lips[1]:5.0f} samples/s   "
        f"whole {lips[2]:5.0f} samples/s   (goal: loader >= 5x step) {'ok' if ok_lips else 'MISSED'}"
    )
    return ok and ok_lips


def _sync_lips(folders) -> tuple[float, float, float]:
    """Loader-only, step-only and whole-step samples/s of the sync-lips recipe."""
    from talkingface.models import create_model
    from talkingface.train.sync_lips import load_clips, matching_loss, sample_runs

    clips, _ = load_clips(folders, (0.9, 1.1))
    rng = np.random.default_rng(0)
    per_step = 8 * 24
    start = time.perf_counter()
    for _ in range(20):
        sample_runs(clips, rng, 8, 24)
    loader = 20 * per_step / (time.perf_counter() - start)
    torch.manual_seed(0)
    model = create_model("syncnet.lips").train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(runs) -> None:
        loss, _ = matching_loss(model, runs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    runs = sample_runs(clips, rng, 8, 24)
    step(runs)
    start = time.perf_counter()
    for _ in range(10):
        step(runs)
    step_only = 10 * per_step / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(10):
        step(sample_runs(clips, rng, 8, 24))
    whole = 10 * per_step / (time.perf_counter() - start)
    return loader, step_only, whole


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
