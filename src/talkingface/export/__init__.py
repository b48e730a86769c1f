"""Exports for DCC tools and engines: glTF 2.0 binary with morph-target animation, OBJ sequences,
VOCASET-layout vertex arrays. (ARKit-52 CSV and JSON curves live on ``AnimationCurves``.)"""

from .gltf import write_glb, write_glb_vertex_cache
from .sequences import write_npy, write_obj_sequence

__all__ = ["write_glb", "write_glb_vertex_cache", "write_npy", "write_obj_sequence"]
