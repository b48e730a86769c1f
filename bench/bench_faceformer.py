"""FaceFormer inference, VOCASET config, the same weights: the upstream way (wav2vec 2.0 run with its
attention maps materialised, then the whole prefix re-decoded at every frame) vs ours (encoder once
with fused attention, one cached decoding step per frame) in the same run.

Goals: decoding >= 20x faster and end to end >= 4x faster at 20 s of audio (600 frames, the most the
upstream code can do); ours should grow linearly: time per second of audio at 5/10/20/60 s.
"""

from __future__ import annotations

import time
from functools import partial

import torch


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> bool:
    from _common import INPUTS

    from talkingface.media import load_audio
    from talkingface.models import create_model
    from talkingface.models.faceformer import decode_incremental

    torch.manual_seed(0)
    model = create_model("faceformer.vocaset")
    torch.nn.init.normal_(model.vertice_map_r.weight, std=1e-3)  # upstream initialises it to zero
    speech = torch.from_numpy(load_audio(INPUTS / "two_cities.wav", 16000).copy())
    speech = torch.cat([speech, speech])  # 88 s
    template = torch.zeros(model.config.num_vertices * 3)
    style = model.style(0, 1)
    print(f"FaceFormer VOCASET (torch threads {torch.get_num_threads()}):")

    def run(seconds: float, upstream: bool):
        audio = speech[: int(seconds * 16000)]
        model.audio_encoder.set_attn_implementation("eager" if upstream else "sdpa")
        with torch.no_grad():
            (memory, frames), encode = _timed(lambda: model.encode_audio(audio))
            decoder = model._decode_redecode if upstream else partial(decode_incremental, model)
            vertices, decode = _timed(lambda: decoder(memory, frames, style, template.view(1, 1, -1)))
        return vertices, encode, decode

    run(2.0, False)  # warm up
    ref, ref_encode, ref_decode = run(20.0, True)
    ours, our_encode, our_decode = run(20.0, False)
    diff = (ref - ours).abs().max().item()
    decode_x = ref_decode / our_decode
    total_x = (ref_encode + ref_decode) / (our_encode + our_decode)
    print(
        f"  20 s, {ref.shape[1]} frames: upstream encode {ref_encode:5.2f} s + decode {ref_decode:5.2f} s;"
        f" ours encode {our_encode:5.2f} s + decode {our_decode:5.3f} s; max abs diff {diff:.1e}"
    )
    print(f"  decoding {decode_x:5.1f}x faster (goal >= 20x), end to end {total_x:4.1f}x faster (goal >= 4x)")
    for seconds in (5, 10, 20, 60):
        _, encode, decode = run(seconds, False)
        print(
            f"  ours {seconds:>2} s of audio: {(encode + decode) / seconds * 1000:5.1f} ms per second of audio "
            f"(encode {encode / seconds * 1000:5.1f}, decode {decode / seconds * 1000:5.1f})"
        )
    from talkingface.models.faceformer import FaceFormerStream

    stream = FaceFormerStream(model, template)
    pieces = speech[: 20 * 16000].numpy()
    start = time.perf_counter()
    count = sum(len(stream.push(pieces[k : k + 1600])) for k in range(0, len(pieces), 1600)) + len(stream.flush())
    streamed = time.perf_counter() - start
    print(
        f"  streaming 20 s in 0.1 s pieces ({count} frames): {streamed / 20:4.2f}x real time to compute, "
        f"latency {stream.hop_frames / model.config.fps + stream.lookahead:.1f} s (hop + lookahead)"
    )
    ok = decode_x >= 20 and total_x >= 4 and diff <= 1e-4
    print(f"  goals: {'ok' if ok else 'MISSED'}")
    return ok


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    main()
