"""Run every benchmark: ``python bench/run.py`` (or ``make bench``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_face  # noqa: E402
import bench_faceformer  # noqa: E402
import bench_faceformer_train  # noqa: E402
import bench_features  # noqa: E402
import bench_lipsync  # noqa: E402
import bench_mesh  # noqa: E402
import bench_models  # noqa: E402
import bench_photo  # noqa: E402
import bench_speech  # noqa: E402
import bench_video  # noqa: E402

if __name__ == "__main__":
    results = [bench_features.main(), bench_video.main(), bench_face.main(), bench_speech.main(), bench_photo.main(), bench_mesh.main(), bench_models.main(), bench_lipsync.main(),
               bench_faceformer.main(), bench_faceformer_train.main([])]
    sys.exit(0 if all(results) else 1)
