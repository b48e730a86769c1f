"""Training FaceFormer on a VOCASET/BIWI-layout data set (the real ones or our synthetic set).

As upstream: one sequence per step, MSE on the vertices, Adam 1e-4, the speaker's one-hot style
(speakers = the training subjects, in order), autoregressive by default (``teacher_forcing=True`` is
faster and is what the first epochs of a long run can use). Held-out evaluation decodes each
validation sequence autoregressively, as inference does, and reports MSE and LVE (lip vertices).
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.mesh_sets import BIWI, VOCASET, load_mesh_set, read_split
from ..errors import InputError
from .configs import FaceFormerTrainConfig
from .loop import TrainResult, lead_only, seed_everything, train

if TYPE_CHECKING:
    from ..models.faceformer import FaceFormer


def _lip_indices(config: FaceFormerTrainConfig, num_vertices: int, template: np.ndarray) -> np.ndarray | None:
    from ..metrics.mesh import load_vertex_group, vertex_groups, vertex_groups_for

    if config.lips is None:
        if num_vertices == 478:
            return vertex_groups("template")[0]
        try:  # the built-in face's lips found on this mesh
            return vertex_groups_for(template.reshape(-1, 3))[0]
        except InputError:
            return None
    if os.path.exists(config.lips):
        return load_vertex_group(config.lips, num_vertices)
    lips = vertex_groups(config.lips)[0]
    if lips.max() >= num_vertices:
        raise InputError(f"the {config.lips!r} lips do not fit a mesh of {num_vertices} vertices")
    return lips


def build(config: FaceFormerTrainConfig, num_vertices: int, num_speakers: int, fps: float) -> FaceFormer:
    from ..models import create_model, load_model
    from ..models.faceformer import FaceFormer

    if config.init is not None:
        model = load_model(config.init, family="faceformer")
        assert isinstance(model, FaceFormer)  # the family was checked
        if config.wav2vec2 is not None:
            model.load_wav2vec2(config.wav2vec2)
        if model.config.num_vertices != num_vertices or model.config.num_speakers != num_speakers:
            raise InputError(
                f"{config.init}: animates {model.config.num_vertices} vertices for "
                f"{model.config.num_speakers} speakers; the data has {num_vertices} and {num_speakers}"
            )
        return model
    changes = {
        "num_vertices": num_vertices,
        "num_speakers": num_speakers,
        "fps": float(fps),
        **config.model_overrides(),
    }
    model = create_model(config.model, **changes)
    if not isinstance(model, FaceFormer):
        raise InputError(f"{config.model} is not a FaceFormer variant")
    if config.wav2vec2 is not None:
        model.load_wav2vec2(config.wav2vec2)
    return model


def train_faceformer(config: FaceFormerTrainConfig, log=print) -> TrainResult:
    from ..metrics.mesh import lip_vertex_error

    log = lead_only(log)
    split = read_split(config.data)
    layout_name = config.layout or (split.layout if split else "vocaset")
    layouts = {"vocaset": VOCASET, "biwi": BIWI}
    if layout_name not in layouts:
        raise InputError(f"layout must be 'vocaset' or 'biwi', not {layout_name!r}")
    layout = layouts[layout_name]
    own = split if split is not None and split.layout == layout_name else None
    train_subjects = list(config.train_subjects or (own.train_subjects if own else layout.train_subjects))
    val_subjects = list(config.val_subjects or (own.val_subjects if own else layout.val_subjects))
    train_sentences = config.train_sentences or (own.train_sentences if own else None)
    val_sentences = config.val_sentences or (own.val_sentences if own else None)
    if own is not None and log:
        log(f"split from {config.data}/split.json: {len(train_subjects)} speakers, sentences held out: {val_sentences}")
    train_items = load_mesh_set(config.data, layout, "train", subjects=train_subjects, sentences=train_sentences)
    try:
        val_items = load_mesh_set(config.data, layout, "val", subjects=val_subjects, sentences=val_sentences)
    except InputError as error:
        if log:
            log(f"no held-out evaluation: {error}")
        val_items = []
    overlap = {s.name for s in train_items} & {s.name for s in val_items}
    if overlap:
        raise InputError(
            f"{len(overlap)} sequences are both trained on and held out (e.g. {sorted(overlap)[0]}); "
            "choose other subjects or sentences"
        )
    num_vertices = train_items[0].vertices.shape[1] // 3
    seed_everything(config.seed)
    model = build(config, num_vertices, len(train_subjects), layout.fps)
    lips = _lip_indices(config, num_vertices, train_items[0].template)
    speaker = {s: i for i, s in enumerate(train_subjects)}
    if log:
        log(
            f"FaceFormer: {len(train_items)} training / {len(val_items)} held-out sequences, {num_vertices} vertices, "
            f"{len(train_subjects)} speakers, {'teacher forcing' if config.teacher_forcing else 'autoregressive'}"
        )

    def step(model, item) -> torch.Tensor:
        vertices = torch.from_numpy(item.vertices).unsqueeze(0)
        predicted = model(item.audio, item.template, vertices, speaker[item.subject], config.teacher_forcing)
        return torch.nn.functional.mse_loss(predicted, vertices[:, : predicted.shape[1]].to(predicted.device))

    def evaluate(model, items) -> dict:
        errors, lves = [], []
        for item in items:
            vertices = torch.from_numpy(item.vertices)
            predicted = model.predict(
                item.audio, item.template, speaker.get(item.subject, 0), num_frames=len(vertices)
            )[0].cpu()
            frames = min(len(predicted), len(vertices))
            errors.append(torch.nn.functional.mse_loss(predicted[:frames], vertices[:frames]).item())
            if lips is not None:
                lves.append(lip_vertex_error(predicted[:frames].numpy(), vertices[:frames].numpy(), lips))
        metrics = {"loss": float(np.mean(errors))}
        if lves:
            metrics["lve"] = float(np.mean(lves))
        return metrics

    loop = config.loop(
        monitor="lve" if lips is not None else "loss",
        find_unused=model.config.audio_encoder == "wav2vec2",  # SpecAugment's embedding
    )
    task = dataclasses.asdict(config)  # the run's config.json: these with the loop's settings
    return train(model, train_items, loop, step, evaluate, val_items, log=log, task=task)
