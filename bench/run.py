"""Run every benchmark: ``python bench/run.py`` (or ``make bench``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_bf16
import bench_busy_machine
import bench_enhance
import bench_exports
import bench_face
import bench_faceformer
import bench_faceformer_train
import bench_features
import bench_lipsync
import bench_long_inputs
import bench_mesh
import bench_models
import bench_photo
import bench_photo_look
import bench_serve
import bench_speech
import bench_speech_lips
import bench_sync_builtin
import bench_tight_crops
import bench_train_syncnet
import bench_video
import bench_visemenet

if __name__ == "__main__":
    results = [
        bench_features.main(),
        bench_video.main(),
        bench_face.main(),
        bench_speech.main(),
        bench_photo.main(),
        bench_photo_look.main(),
        bench_speech_lips.main(["--photo"]),
        bench_mesh.main(),
        bench_models.main(),
        bench_lipsync.main(),
        bench_bf16.main([]),
        bench_faceformer.main(),
        bench_faceformer_train.main([]),
        bench_train_syncnet.main([]),
        bench_sync_builtin.main([]),
        bench_tight_crops.main(),
        bench_visemenet.main([]),
        bench_busy_machine.main(),
        bench_long_inputs.main(["--minutes", "10"]),
        bench_serve.main([]),
        bench_exports.main([]),
        bench_enhance.main([]),
    ]
    sys.exit(0 if all(results) else 1)
