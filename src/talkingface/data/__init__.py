"""Data sets: the VOCASET/BIWI mesh layouts and the synthetic talking-face set."""

from .mesh_sets import (
    BIWI,
    VOCASET,
    MeshLayout,
    MeshSequence,
    load_mesh_set,
    load_templates,
    parse_name,
    speaker_one_hot,
    train_subjects,
    write_mesh_set_item,
    write_templates,
)

__all__ = [
    "BIWI",
    "VOCASET",
    "MeshLayout",
    "MeshSequence",
    "load_mesh_set",
    "load_templates",
    "parse_name",
    "speaker_one_hot",
    "train_subjects",
    "write_mesh_set_item",
    "write_templates",
]
