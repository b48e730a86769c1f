import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from talkingface import __version__
from talkingface.cli import main
from talkingface.media import load_audio, probe_video

BIN = Path(sys.executable).parent / "talkingface"


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "info" in out and "features" in out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"talkingface {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_info_reports_working_components(capsys):
    assert main(["info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    components = {c["name"]: c for c in report["components"]}
    for name in (
        "PyAV",
        "torch",
        "espeak-ng",
        "EGL",
        "mediapipe",
        "sync model",
        "visemenet",
        "openness model",
        "mouth upscaler",
    ):
        assert components[name]["ok"], components[name]
    assert "libx264" in components["PyAV"]["detail"] and "syncnet.lips" in components["sync model"]["detail"]


def test_features_writes_npz_and_video(tmp_path, speech_path, photo_path, capsys):
    npz, video = tmp_path / "f.npz", tmp_path / "v.mp4"
    code = main(
        [
            "features",
            "--audio",
            str(speech_path),
            "--face",
            str(photo_path),
            "--duration",
            "2",
            "--fps",
            "29.97",
            "--save",
            str(npz),
            "-o",
            str(video),
        ]
    )
    assert code == 0
    data = np.load(npz)
    assert data["mel"].shape == (80, 161) and data["mfcc"].shape == (13, 199)
    assert data["mel_windows"].shape == (60, 80, 16) and data["mfcc_windows"].shape == (60, 13, 20)
    info = probe_video(video)
    assert info.num_frames == 60 and (info.width, info.height) == (960, 540) and info.has_audio
    assert len(load_audio(video, 16000)) == pytest.approx(32000, abs=2048)
    assert "60 frames" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["features", "--audio", "missing.wav", "-o", "x.mp4"], "missing.wav: file not found"),
        (["features", "--audio", "{speech}"], "nothing to do"),
        (["features", "--audio", "{speech}", "--fps", "abc", "-o", "x.mp4"], "fps must be a positive number"),
        (["features", "--audio", "{photo}", "-o", "x.mp4"], "no audio stream"),
        (["features"], "required: --audio"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, speech_path, photo_path, capsys, argv, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [a.format(speech=speech_path, photo=photo_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exit_info:  # argparse usage errors
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_installed_command_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [str(BIN), "features", "--audio", str(tmp_path / "nope.mp3"), "-o", "o.mp4"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"talkingface features: error: {tmp_path / 'nope.mp3'}: file not found"
    assert "Traceback" not in result.stderr
