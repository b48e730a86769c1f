import pytest
import torch

from talkingface.errors import InputError
from talkingface.models import create_model, load_model, save_model
from talkingface.models.visemenet import VISEMES, VisemeNetStream


def small(**config):
    torch.manual_seed(0)
    return create_model("visemenet", hidden=16, **config)


def test_outputs_per_10_ms_step():
    model = small()
    with torch.no_grad():
        out = model(torch.randn(2, 50, 65))
    assert out.landmarks.shape == (2, 50, 80) and out.phonemes.shape == (2, 50, 21)
    assert out.jali.shape == (2, 50, 2) and out.activations.shape == out.values.shape == (2, 50, len(VISEMES))
    assert float(out.jali.min()) >= 0 and float(out.jali.max()) <= 1
    visemes = out.visemes()
    assert torch.equal(visemes == 0, out.activations <= 0.5)
    with pytest.raises(InputError, match="65"):
        model(torch.randn(1, 10, 64))


@pytest.mark.parametrize("chunk, lookahead", [(1, 5), (7, 5), (33, 12), (10, 0)])
def test_streaming_gives_the_whole_clip_output(chunk, lookahead):
    model = small(lookahead=lookahead)
    features = torch.randn(1, 60, 65)
    with torch.no_grad():
        whole = model(features)
    stream = VisemeNetStream(model)
    parts = [stream.push(features[:, s : s + chunk]) for s in range(0, 60, chunk)] + [stream.finish()]
    streamed = torch.cat([p.jali for p in parts], dim=1)
    assert streamed.shape == whole.jali.shape
    torch.testing.assert_close(streamed, whole.jali, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.cat([p.landmarks for p in parts], dim=1), whole.landmarks, atol=1e-5, rtol=1e-4)


def test_a_few_training_steps_lower_the_loss(tmp_path):
    model = small(lookahead=2).train()
    features, target_jali = torch.randn(4, 40, 65), torch.rand(4, 40, 2)
    groups = torch.randint(0, 21, (4, 40))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        out = model(features)
        loss = torch.nn.functional.l1_loss(out.jali, target_jali) + torch.nn.functional.cross_entropy(
            out.phonemes.reshape(-1, 21), groups.reshape(-1)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]
    again = load_model(save_model(model, tmp_path / "v.safetensors"))
    assert again.variant == "visemenet" and again.config == model.config
    features = torch.randn(1, 20, 65)
    torch.testing.assert_close(again(features).values, model.eval()(features).values)
