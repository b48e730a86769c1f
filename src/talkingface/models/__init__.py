"""2D talking-face models, one file per family, loading the public checkpoints.

``create_model(name, checkpoint=None, device=None)`` with names from ``VARIANTS``: ``wav2lip``,
``wav2lip.gan``, ``wav2lip.192/256/288``, ``wav2lip.disc``, ``syncnet.expert``, ``syncnet.v2``,
``lipgan``, ``lipgan.disc``.
"""

from .registry import VARIANTS, create_model, filter_state_dict, load_as, load_checkpoint, load_model, save_model

__all__ = ["VARIANTS", "create_model", "filter_state_dict", "load_as", "load_checkpoint", "load_model", "save_model"]
