"""The names a setting may take, declared once: the command line, the web service, the configs and the
code that acts on a choice all refer to these tuples. This module imports nothing, so that the command
line is built without loading numpy or torch."""

#: How clearly a mouth articulates (``animation.jali.STYLES`` gives each its jaw and lip shift).
STYLES = ("mumble", "relaxed", "normal", "clear", "enunciate")
#: How speech becomes mouth motion (``animation.speech``).
SPEECH_METHODS = ("auto", "jali", "visemenet")
#: How speech becomes a moving 3D face (``pipelines.mesh_animation``): the speech methods and FaceFormer.
MESH_METHODS = (*SPEECH_METHODS, "faceformer")
#: Face enhancement of a generated video (``enhance.video``).
ENHANCE_METHODS = ("none", "gfpgan", "upscaler")
#: Inference precision of the lip-sync generator (``models.inference``).
PRECISIONS = ("fp32", "bf16")
#: How a generated mouth is pasted back into the frame (``pipelines.lipsync``).
PASTE_MODES = ("soft", "hard")
#: How ``lipsync`` makes the new mouth: "auto" (Wav2Lip when a checkpoint is given, else the speaker's own
#: mouths), "mouths" (the speaker's own mouths from the footage, no weights) or "wav2lip".
LIPSYNC_METHODS = ("auto", "mouths", "wav2lip")
#: The longer side of a photo animated by the command line and the web service, unless a size is given:
#: a 2048 px phone photo renders about 10x slower than at this size, and looks the same at viewing size.
PHOTO_SIZE = 512
#: The mesh renderer (``render.mesh``): EGL when it works, else NumPy.
RENDER_BACKENDS = ("auto", "egl", "numpy")
#: Which windows the sync score uses (``pipelines.sync_score``): syncnet_python's, or every one.
SYNC_WINDOWS = ("reference", "all")
#: Layouts of mesh data sets (``data.mesh_sets``).
MESH_LAYOUTS = ("vocaset", "biwi")
#: FaceFormer's variants in the model registry.
FACEFORMER_VARIANTS = ("faceformer.mel", "faceformer.vocaset", "faceformer.biwi")
#: The speakers of FaceFormer's public checkpoints, in the order of their one-hot index (FaceFormer's
#: ``obj_vector``): VOCASET's 8 training subjects and BIWI's 6.
VOCASET_SPEAKERS = (
    "FaceTalk_170728_03272_TA",
    "FaceTalk_170904_00128_TA",
    "FaceTalk_170725_00137_TA",
    "FaceTalk_170915_00223_TA",
    "FaceTalk_170811_03274_TA",
    "FaceTalk_170913_03279_TA",
    "FaceTalk_170904_03276_TA",
    "FaceTalk_170912_03278_TA",
)
BIWI_SPEAKERS = ("F2", "F3", "F4", "M3", "M4", "M5")
#: How the built-in sync model sees the lips (``features.lips``): as the eyes' line sets them, or turned
#: to face the camera.
LIP_FRAMES = ("eye_line", "frontal")
#: Learning-rate schedules of the training loop.
SCHEDULES = ("constant", "cosine", "step")
