"""talkingface: talking-face generation from speech.

Lip-sync of videos and photos (SyncNet, LipGAN, Wav2Lip compatible), talking photos without
downloaded weights (JALI procedural animation), and speech-driven 3D faces (VisemeNet, FaceFormer).

Importing the package does no work: submodules load on first use.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
