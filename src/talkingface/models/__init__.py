"""Talking-face models, one module per family, loading the public checkpoints.

- ``create_model(name, checkpoint=None, device=None, **config)`` builds a named variant: ``wav2lip``,
  ``wav2lip.gan``, ``wav2lip.192/256/288``, ``wav2lip.disc``, ``syncnet.expert``, ``syncnet.v2``,
  ``lipgan``, ``lipgan.disc``, ``faceformer.vocaset``, ``faceformer.biwi``, ``faceformer.mel``.
- ``load_model(path, variant=None)`` loads any supported file (ours, or an upstream one, whose variant
  is told by its shapes when not given); ``save_model(model, path)`` writes ours.
- Every model carries ``model.spec`` (:class:`ModelSpec`): what its inputs must look like.
"""

from .registry import Variant, create_model, get_variant, load_model, save_model, variants
from .spec import ModelSpec

__all__ = ["ModelSpec", "Variant", "create_model", "get_variant", "load_model", "save_model", "variants"]
