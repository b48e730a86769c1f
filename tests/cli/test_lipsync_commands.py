import json
from fractions import Fraction

import pytest
import soundfile
import torch
from tests.face.conftest import place

from talkingface.cli import main
from talkingface.media import probe_video, read_frames, read_image, write_video
from talkingface.models import create_model, save_model


@pytest.fixture(scope="module")
def files(tmp_path_factory, photo, speech16k):
    folder = tmp_path_factory.mktemp("cli_lipsync")
    frames = [place(photo, (320, 240), 40 + i, -30, 0.5) for i in range(30)]
    video = write_video(folder / "in.mp4", frames, 25, audio=speech16k[16000 : 16000 + 19200], sample_rate=16000)
    speech = folder / "s.wav"
    soundfile.write(speech, speech16k[16000 : 16000 + 16000], 16000)
    torch.manual_seed(0)
    # Tiny networks in our own format (self-describing, so the commands rebuild them as they are).
    generator = save_model(create_model("wav2lip", channel_divisor=4), folder / "g.safetensors")
    syncnet = save_model(create_model("syncnet.v2", channel_divisor=4), folder / "sn.safetensors")
    return video, speech, generator, syncnet


@pytest.mark.slow
def test_lipsync_and_score_commands(files, tmp_path, capsys):
    video, speech, generator, syncnet = files
    out = tmp_path / "dub.mp4"
    assert (
        main(
            [
                "lipsync",
                "--face",
                str(video),
                "--audio",
                str(speech),
                "--checkpoint",
                str(generator),
                "-o",
                str(out),
                "--batch-size",
                "8",
                "--pads",
                "0",
                "12",
                "0",
                "0",
            ]
        )
        == 0
    )
    assert probe_video(out).num_frames == 25
    assert (
        main(
            [
                "sync-score",
                str(video),
                str(out),
                "--checkpoint",
                str(syncnet),
                "--json",
                str(tmp_path / "s.json"),
                "--plot",
                str(tmp_path / "sync.png"),
            ]
        )
        == 0
    )
    data = json.loads((tmp_path / "s.json").read_text())
    for name in ("sync_in.png", "sync_dub.png"):
        picture = read_image(tmp_path / name)
        assert picture.shape[1] > 1000 and (picture < 128).any()  # drawn, not blank
    assert [d["video"] for d in data] == [str(video), str(out)]
    assert all(-15 <= t["offset"] <= 15 and t["lse_d"] > 0 for d in data for t in d["tracks"])
    assert "LSE-D" in capsys.readouterr().out
    assert main(["sync-score", str(video), "--checkpoint", str(syncnet), "--plot", str(tmp_path / "p.jpg")]) == 2
    assert "the plot must be .png, not .jpg" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["lipsync", "sync-score"])
def test_wrong_checkpoint(files, tmp_path, capsys, command):
    video, speech, generator, syncnet = files
    wrong = syncnet if command == "lipsync" else generator
    argv = (
        [
            "lipsync",
            "--face",
            str(video),
            "--audio",
            str(speech),
            "--checkpoint",
            str(wrong),
            "-o",
            str(tmp_path / "o.mp4"),
        ]
        if command == "lipsync"
        else ["sync-score", str(video), "--checkpoint", str(wrong)]
    )
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert ("not a wav2lip generator" in err or "not a syncnet sync model" in err) and err.count("\n") == 1
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_offset_auto_measures_and_applies(files, tmp_path, capsys):
    video, speech, generator, syncnet = files
    out = tmp_path / "dub.mp4"
    assert (
        main(
            [
                "lipsync",
                "--face",
                str(video),
                "--audio",
                str(speech),
                "--checkpoint",
                str(generator),
                "--syncnet",
                str(syncnet),
                "--offset",
                "auto",
                "-o",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    line = capsys.readouterr().out
    measured = int(line.split("measured ")[1].split(" ")[0])
    assert f"audio offset {measured} frames" in line  # what was measured is what was applied (threshold 0)
    assert probe_video(out).num_frames == 25 and [p.name for p in tmp_path.iterdir()] == ["dub.mp4"]
    assert (
        main(
            [
                "lipsync",
                "--face",
                str(video),
                "--audio",
                str(speech),
                "--checkpoint",
                str(generator),
                "--syncnet",
                str(syncnet),
                "-o",
                str(out),
            ]
        )
        == 2
    )
    assert "--syncnet is for --offset auto" in capsys.readouterr().err


def test_sync_score_scores_the_good_files_and_reports_each_bad_one(files, tmp_path, capsys):
    video, _, _, syncnet = files
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 50)
    still = tmp_path / "still.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(still), np.full((64, 64, 3), 128, np.uint8))
    argv = ["sync-score", str(junk), str(video), str(still), str(tmp_path / "gone.mp4"), "--checkpoint", str(syncnet)]
    code = main([*argv, "--json", str(tmp_path / "r.json")])
    captured = capsys.readouterr()
    assert code == 2
    notes = [line for line in captured.err.splitlines() if line.startswith("note: not scored: ")]
    assert len(notes) == 3
    assert "junk.mp4" in notes[0] and "still.png: sync needs a video" in notes[1] and "gone.mp4" in notes[2]
    errors = [line for line in captured.err.splitlines() if line.startswith("talkingface")]
    assert errors == [
        "talkingface sync-score: error: 3 of 4 videos could not be scored (each noted above); the others were scored"
    ]
    data = json.loads((tmp_path / "r.json").read_text())
    assert [d["video"] for d in data] == [str(video)] and "Traceback" not in captured.err


def test_long_decimal_frame_rates_are_read_as_exact_rates(tmp_path, capsys, photo_path, files):
    _, speech, _, _ = files
    out = tmp_path / "t.mp4"
    argv = ["animate", "--face", str(photo_path), "--audio", str(speech), "--size", "128", "--fps", "29.97002997"]
    assert main([*argv, "-o", str(out)]) == 0
    assert probe_video(out).fps == Fraction(30000, 1001)
    with pytest.raises(SystemExit) as stop:
        main([*argv[:-1], "1e400", "-o", str(tmp_path / "u.mp4")])
    assert stop.value.code == 2 and "fps must be" in capsys.readouterr().err and not (tmp_path / "u.mp4").exists()


@pytest.mark.parametrize("name, works", [("t.webm", True), ("t.gif", False), ("t", False), ("t.xyz", False)])
def test_output_extensions_work_or_fail_in_one_line(tmp_path, capsys, photo_path, files, name, works):
    _, speech, _, _ = files
    code = main(
        ["animate", "--face", str(photo_path), "--audio", str(speech), "--size", "96", "-o", str(tmp_path / name)]
    )
    err = capsys.readouterr().err
    if works:
        assert code == 0 and sum(1 for _ in read_frames(tmp_path / name)) == 25
    else:
        assert code == 2 and err.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_evaluate_sync_moves_the_audio_by_each_shift(files, tmp_path, capsys):
    video, _, _, syncnet = files
    out = tmp_path / "eval.json"
    argv = ["evaluate", "sync", str(video), str(tmp_path / "gone.mp4"), "--checkpoint", str(syncnet)]
    assert main([*argv, "--shifts", "-2", "2", "--json", str(out)]) == 2  # the missing file is reported
    captured = capsys.readouterr()
    assert "gone.mp4" in captured.err and "clips x 5 shifts" in captured.out
    data = json.loads(out.read_text())
    assert sorted(r["shift"] for r in data["scores"]) == [-2, -1, 0, 1, 2] and data["report"]["pairs"] == 5
    assert main([*argv[:3], "--checkpoint", str(syncnet), "--shifts", "1", "3"]) == 2
    assert "must span 0" in capsys.readouterr().err


def test_offset_auto_with_the_built_in_model_applies_only_a_confident_offset(files, tmp_path, capsys):
    from talkingface.models import load_model
    from talkingface.pipelines import LipSyncPipeline

    video, speech, generator, _ = files
    out = tmp_path / "dub.mp4"
    argv = ["lipsync", "--face", str(video), "--audio", str(speech), "--checkpoint", str(generator)]
    assert main([*argv, "--offset", "auto", "-o", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    measured = int(printed.split("measured ")[1].split(" ")[0])
    if "was not applied" in printed:
        assert "audio offset 0 frames" in printed and "confidence is too low" in printed
    else:
        assert f"audio offset {measured} frames" in printed
    # An impossible bar: the offset is measured and reported, never applied.
    pipeline = LipSyncPipeline(load_model(generator))
    result = pipeline.corrected(video, speech, tmp_path / "strict.mp4", min_confidence=1e9)
    assert result.offset == 0 and not result.offset_applied and result.measured_offset is not None
    assert result.offset_confidence is not None and result.offset_confidence < 1e9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dub.mp4", "strict.mp4"]
