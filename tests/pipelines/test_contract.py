"""Every pipeline is entered the same way: ``from_config`` loads what its config names (the built-in models
by default), and ``to(device)`` moves what it holds and returns the pipeline."""

from __future__ import annotations

import pytest

from talkingface.errors import CheckpointError, InputError
from talkingface.pipelines import (
    LipSyncConfig,
    LipSyncPipeline,
    MeshAnimationConfig,
    MeshAnimationPipeline,
    MouthDubPipeline,
    SyncScoreConfig,
    SyncScorePipeline,
    TalkingPhotoConfig,
    TalkingPhotoPipeline,
)
from talkingface.pipelines._base import Pipeline


@pytest.mark.parametrize(
    "cls, config",
    [
        (TalkingPhotoPipeline, TalkingPhotoConfig(still=True)),
        (SyncScorePipeline, SyncScoreConfig()),
        (MeshAnimationPipeline, MeshAnimationConfig(size=64)),
        (MouthDubPipeline, LipSyncConfig(keep_video_length=True)),
    ],
)
def test_from_config_loads_the_built_ins_and_keeps_the_config(cls, config):
    pipeline = cls.from_config(config)
    assert isinstance(pipeline, cls) and isinstance(pipeline, Pipeline)
    assert pipeline.config is config
    assert pipeline.to("cpu") is pipeline
    assert cls.from_config().config == type(config)()  # no config: the defaults


def test_the_sync_pipeline_from_config_holds_the_built_in_model():
    assert SyncScorePipeline.from_config().lips  # the built-in sync model sees lip landmarks


def test_lip_sync_needs_its_checkpoint_named(tmp_path):
    with pytest.raises(InputError, match="needs a Wav2Lip checkpoint"):
        LipSyncPipeline.from_config(LipSyncConfig())
    with pytest.raises(CheckpointError):
        LipSyncPipeline.from_config(LipSyncConfig(), tmp_path / "missing.pth")


def test_the_mouths_method_refuses_wav2lip_options():
    with pytest.raises(InputError, match="pads is a Wav2Lip option"):
        MouthDubPipeline.from_config(LipSyncConfig(pads=(0, 10, 0, 0)))
    with pytest.raises(InputError, match="not Wav2Lip"):
        LipSyncConfig(method="wav2lip", mouths=("a.mp4",))


def test_faceformer_from_config_takes_the_checkpoint_into_its_config(tmp_path):
    with pytest.raises(CheckpointError):  # the file named is loaded, not ignored
        MeshAnimationPipeline.from_config(MeshAnimationConfig(method="faceformer"), tmp_path / "vocaset.pth")
