"""VisemeNet (Zhou et al., "VisemeNet: Audio-Driven Animator-Centric Speech Animation", SIGGRAPH 2018).

Audio features (:func:`talkingface.features.visemenet.visemenet_features`, 65 values per 10 ms) ->

- stage 1: a 3-layer LSTM -> mouth landmarks (the 40 lip points of our face topology in the frontal frame of
  :func:`~talkingface.features.lips.lip_shapes`, as offsets from the utterance's median mouth; the paper: 38
  points from a neutral face) and the
  logits of 21 phoneme groups;
- stage 2: the landmarks, stage 1's state and the audio frame -> an LSTM -> JA and LI (the JALI jaw and
  lip parameters), 20 viseme activations and 20 viseme values (a viseme is on where its activation
  exceeds 0.5, at its value).

Both stages are causal LSTMs, so the network streams: :class:`VisemeNetStream` carries their states
across chunks of any size and gives exactly the whole-clip output. The paper's bounded look-ahead is a
fixed delay: the output for step ``t`` is read ``lookahead`` steps later (the model has heard
``lookahead`` x 10 ms past it). Features are z-normalised inside the model with statistics of its
training data (``feature_mean``/``feature_std`` buffers).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import InputError
from ..features.visemenet import VISEMENET_FEATURES
from ..speech.visemes import JALI_VISEMES
from .registry import load_builtin, register_network
from .spec import ModelSpec

#: The paper's output order of the 20 visemes (after JA and LI).
VISEMES = JALI_VISEMES
PHONEME_GROUPS = 21
LANDMARKS = 80  # the 40 lip points of the face topology, x and y (the paper: 38 points)


@dataclass(frozen=True)
class VisemeNetConfig:
    """Attributes:
    hidden: LSTM width of both stages (the paper's: 256).
    stage1_layers, stage2_layers: LSTM depths.
    lookahead: steps of 10 ms the output waits for (10: 100 ms, so that with a 10 ms chunk and its
        compute a stream stays within the paper's 120 ms lag).
    dropout: dropout between stacked LSTM layers in training.
    """

    hidden: int = 256
    stage1_layers: int = 3
    stage2_layers: int = 2
    lookahead: int = 10
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.dropout < 1:
            raise InputError(f"VisemeNetConfig dropout must be in [0, 1), got {self.dropout}")
        if self.hidden < 4 or self.stage1_layers < 1 or self.stage2_layers < 1 or not 0 <= self.lookahead <= 50:
            raise InputError(f"VisemeNetConfig out of range: {self}")


@dataclass
class VisemeNetOutput:
    """Per 10 ms step: ``landmarks (B, T, 80)``, ``phonemes (B, T, 21)`` logits, ``jali (B, T, 2)`` in
    [0, 1], ``activations`` and ``values`` ``(B, T, 20)`` in [0, 1]."""

    landmarks: torch.Tensor
    phonemes: torch.Tensor
    jali: torch.Tensor
    activations: torch.Tensor
    values: torch.Tensor

    def visemes(self) -> torch.Tensor:
        """The viseme curves: each value where its activation exceeds 0.5, else 0."""
        return torch.where(self.activations > 0.5, self.values, torch.zeros_like(self.values))


class VisemeNet(nn.Module):
    """The two-stage network (see the module)."""

    feature_mean: torch.Tensor
    feature_std: torch.Tensor

    def __init__(self, config: VisemeNetConfig = VisemeNetConfig()):
        super().__init__()
        self.config = config
        h = config.hidden
        self.register_buffer("feature_mean", torch.zeros(VISEMENET_FEATURES))
        self.register_buffer("feature_std", torch.ones(VISEMENET_FEATURES))
        self.stage1 = nn.LSTM(
            VISEMENET_FEATURES,
            h,
            config.stage1_layers,
            batch_first=True,
            dropout=config.dropout if config.stage1_layers > 1 else 0.0,
        )
        self.landmarks = nn.Linear(h, LANDMARKS)
        self.phonemes = nn.Linear(h, PHONEME_GROUPS)
        self.stage2 = nn.LSTM(
            LANDMARKS + h + VISEMENET_FEATURES,
            h,
            config.stage2_layers,
            batch_first=True,
            dropout=config.dropout if config.stage2_layers > 1 else 0.0,
        )
        self.jali = nn.Linear(h, 2)
        self.activations = nn.Linear(h, len(VISEMES))
        self.values = nn.Linear(h, len(VISEMES))

    def step(self, features: torch.Tensor, state: tuple | None = None) -> tuple[VisemeNetOutput, tuple]:
        """Raw features ``(B, T, 65)`` -> outputs for the same steps (not delayed) and the LSTM states
        after them (pass them to the next call to continue the stream)."""
        _check(features)
        x = (features - self.feature_mean) / self.feature_std
        first, second = state if state is not None else (None, None)
        hidden1, first = self.stage1(x, first)
        landmarks = self.landmarks(hidden1)
        hidden2, second = self.stage2(torch.cat([landmarks, hidden1, x], dim=-1), second)
        output = VisemeNetOutput(
            landmarks=landmarks,
            phonemes=self.phonemes(hidden1),
            jali=torch.sigmoid(self.jali(hidden2)),
            activations=torch.sigmoid(self.activations(hidden2)),
            values=torch.sigmoid(self.values(hidden2)),
        )
        return output, (first, second)

    def forward(self, features: torch.Tensor) -> VisemeNetOutput:
        """Whole clip: features ``(B, T, 65)`` -> outputs for its ``T`` steps, step ``t`` read after the
        model has heard ``lookahead`` steps more (past the end: the average frame of its training data)."""
        _check(features)
        lookahead = self.config.lookahead
        if lookahead:
            silence = self.feature_mean.expand(features.shape[0], lookahead, -1)
            features = torch.cat([features, silence], dim=1)
        output, _ = self.step(features)
        return _drop_first(output, lookahead)


def _check(features: torch.Tensor) -> None:
    if features.dim() != 3 or features.shape[-1] != VISEMENET_FEATURES:
        raise InputError(f"expected features (B, T, {VISEMENET_FEATURES}), got {tuple(features.shape)}")


def _drop_first(output: VisemeNetOutput, count: int) -> VisemeNetOutput:
    return VisemeNetOutput(*(getattr(output, name)[:, count:] for name in VisemeNetOutput.__dataclass_fields__))


class VisemeNetStream:
    """Chunk by chunk: ``stream.push(features)`` -> outputs for the steps that are ready (each step once
    ``lookahead`` later steps have arrived); ``stream.finish()`` -> the rest. The outputs, concatenated,
    equal the whole-clip ones."""

    def __init__(self, model: VisemeNet):
        self.model = model.eval()
        self.state: tuple | None = None
        self.pending = model.config.lookahead  # leading outputs still to drop

    @torch.no_grad()
    def push(self, features: torch.Tensor) -> VisemeNetOutput:
        output, self.state = self.model.step(features, self.state)
        dropped = min(self.pending, features.shape[1])
        self.pending -= dropped
        return _drop_first(output, dropped)

    @torch.no_grad()
    def finish(self) -> VisemeNetOutput:
        lookahead = self.model.config.lookahead
        silence = self.model.feature_mean.expand(1, max(1, lookahead), -1)
        if not lookahead:  # nothing is waiting: an empty output (the stream ends here anyway)
            output, self.state = self.model.step(silence, self.state)
            return _drop_first(output, 1)
        return self.push(silence)


SPEC = ModelSpec.from_speech("visemenet")

register_network(
    "visemenet",
    VisemeNet,
    VisemeNetConfig,
    SPEC,
    "VisemeNet: speech -> mouth landmarks, phoneme groups, JALI and viseme curves (streams)",
    weights="visemenet.safetensors",
)


def builtin_visemenet(device: str | torch.device | None = None) -> VisemeNet:
    """The VisemeNet trained here and shipped in the package (eval mode); its card is
    ``weights/visemenet.md``."""
    model = load_builtin("visemenet", device=device)
    assert isinstance(model, VisemeNet)  # load_model checks the variant
    return model
