import numpy as np
import pytest
import soundfile
from tests.conftest import status

from talkingface.cli import main
from talkingface.media import probe_video


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory, speech16k):
    path = tmp_path_factory.mktemp("a") / "speech.wav"
    soundfile.write(path, speech16k[16000 : 16000 * 3], 16000)
    return path


def test_animate_photo(tmp_path, photo_path, short_speech, capsys):
    missing = main(
        ["animate", "--face", str(photo_path), "--audio", str(short_speech), "-o", str(tmp_path / "no" / "t.mp4")]
    )
    assert missing == 2 and "folder" in capsys.readouterr().err and not (tmp_path / "no").exists()
    out = tmp_path / "talk.mp4"
    code = main(
        [
            "animate",
            "--face",
            str(photo_path),
            "--audio",
            str(short_speech),
            "--fps",
            "30",
            "--size",
            "256",
            "--seed",
            "3",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    info = probe_video(out)
    assert info.fps == 30 and info.num_frames == 60 and (info.width, info.height) == (256, 256) and info.has_audio
    printed = capsys.readouterr().out
    assert "60 frames at 30 fps" in printed and "faces: 1 found, animating face 0 (the largest)" in printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["animate", "--face", "{photo}", "--audio", "missing.wav", "-o", "o.mp4"], "missing.wav: file not found"),
        (["animate", "--face", "{speech}", "--audio", "{speech}", "-o", "o.mp4"], "no video stream"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "--size", "5", "-o", "o.mp4"], "--size"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "--face-index", "1", "-o", "o.mp4"], "has 1 face(s)"),
        (["animate", "--face", "{photo}", "--audio", "{speech}", "--face-index", "-1", "-o", "o.mp4"], "face-index"),
    ],
)
def test_animate_bad_input(tmp_path, monkeypatch, capsys, photo_path, short_speech, argv, message):
    monkeypatch.chdir(tmp_path)
    assert status([a.format(photo=photo_path, speech=short_speech) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not any(p.suffix == ".mp4" for p in tmp_path.rglob("*"))


def test_contact_sheet(tmp_path, photo_path, short_speech, capsys):
    import cv2

    out, sheet = tmp_path / "talk.mp4", tmp_path / "sheet.png"
    argv = ["animate", "--face", str(photo_path), "--audio", str(short_speech), "-o", str(out)]
    assert main([*argv, "--sheet", str(sheet), "--quiet"]) == 0
    image = cv2.imread(str(sheet))
    count = int(capsys.readouterr().out.split("contact sheet:")[1].split("(")[1].split()[0])
    assert count >= 3  # widest, loudest, a quiet one, ... in 2 s of speech
    assert image.shape[:2] == (256 * -(-count // 4), 256 * min(count, 4))
    # a large photo of two faces renders at 512 px, and the sheet frames the face animated
    from talkingface.media import probe_video, read_image, resize_image
    from talkingface.render.sheet import write_contact_sheet

    two = np.zeros((800, 1200, 3), np.uint8)
    face = read_image(photo_path)
    two[:, :800], two[200:600, 800:] = resize_image(face, 800, 800), resize_image(face, 400, 400)
    group = tmp_path / "two.png"
    cv2.imwrite(str(group), two[..., ::-1])
    argv = ["animate", "--face", str(group), "--audio", str(short_speech), "-o", str(out), "--face-index", "1"]
    assert main([*argv, "--sheet", str(sheet), "--sheet-at", "0.5", "1.2", "--quiet"]) == 0
    assert (probe_video(out).width, probe_video(out).height) == (512, 342)
    assert cv2.imread(str(sheet)).shape[:2] == (256, 512)
    for index, same in ((1, True), (0, False)):
        write_contact_sheet(out, [(0.5, ""), (1.2, "")], tmp_path / "check.png", face_index=index)
        assert np.array_equal(cv2.imread(str(tmp_path / "check.png")), cv2.imread(str(sheet))) is same
    assert main([*argv, "--sheet-at", "0.5"]) == 2 and "--sheet-at needs --sheet" in capsys.readouterr().err
    assert main([*argv, "--sheet", str(group)]) == 2
    assert "input" in capsys.readouterr().err


def test_the_contact_sheet_of_a_video_frames_the_face_track_animated(tmp_path, photo_path, short_speech):
    """In a video, --face-index is a face track's id: the sheet frames that face, wherever it is."""
    import cv2

    from talkingface.face import FaceTracker
    from talkingface.face.detection import landmark_box
    from talkingface.media import read_image, resize_image, write_video
    from talkingface.render.sheet import write_contact_sheet

    two = np.zeros((600, 960, 3), np.uint8)
    face = read_image(photo_path)
    two[:, :600], two[150:450, 640:940] = resize_image(face, 600, 600), resize_image(face, 300, 300)
    video = write_video(tmp_path / "two.mp4", [two] * 50, 25)
    tracks = FaceTracker().track_video(video).tracks
    small = min(tracks, key=lambda t: np.ptp(t.landmarks[0, :, 0]))
    x0, y0, x1, y1 = landmark_box(small.landmarks[0])
    out, sheet = tmp_path / "talk.mp4", tmp_path / "sheet.png"
    argv = ["animate", "--face", str(video), "--audio", str(short_speech), "-o", str(out)]
    assert (
        main([*argv, "--face-index", str(small.track_id), "--sheet", str(sheet), "--sheet-at", "0.5", "--quiet"]) == 0
    )
    tile = cv2.imread(str(sheet))
    write_contact_sheet(out, [(0.5, "")], tmp_path / "small.png", near=((x0 + x1) / 2, (y0 + y1) / 2))
    write_contact_sheet(out, [(0.5, "")], tmp_path / "large.png", face_index=0)
    assert np.array_equal(tile, cv2.imread(str(tmp_path / "small.png")))
    assert not np.array_equal(tile, cv2.imread(str(tmp_path / "large.png")))


def test_telling_moments_name_the_closures(tmp_path):
    from talkingface.animation import JaliAnimator
    from talkingface.render.sheet import telling_moments
    from talkingface.speech.espeak import synthesize

    speech = synthesize("Bob bought a map, then he paused. My mum makes plum pie.")
    curves = JaliAnimator().animate(speech.phonemes, 25, speech.audio, speech.sample_rate)
    moments = telling_moments(curves, speech.audio, speech.sample_rate, speech.phonemes)
    times = [t for t, _ in moments]
    assert times == sorted(times) and min(np.diff(times)) >= 0.2 - 1e-9
    reasons = {r for _, r in moments}
    assert "widest" in reasons and reasons & {"m", "b", "p"}
    jaw = curves.channel("jawOpen")
    for t, reason in moments:
        if reason in ("m", "b", "p"):
            assert jaw[int(round(t * 25))] < 0.05
