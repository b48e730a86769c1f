"""The HTTP API against a real service on loopback: jobs made, followed, fetched and cancelled, with
real photos, speech and clips; bad requests answered with a 4xx and one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from tests.conftest import in_shared, png_claiming
from tests.serve.conftest import GRID_CLIP, PORTRAIT, serving


def duration_of(data: bytes, tmp_path) -> float:
    path = tmp_path / "out.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        return float(container.duration) / 1e6


def test_lists_methods_checkpoints_and_voices(server):
    methods = {m["name"]: m for m in server.client.get("/api/methods").json()}
    assert set(methods) == {"talking-photo", "lipsync", "mesh", "visemes", "sync-score"}
    assert methods["lipsync"]["checkpoint"] == "optional"
    assert [c["name"] for c in server.client.get("/api/checkpoints").json()] == [
        f"{server_checkpoint_folder(server)}/wav2lip_tiny.safetensors"
    ]
    voices = server.client.get("/api/voices").json()
    assert {"en-us", "de", "fr"} <= set(voices)
    schema = server.client.get("/openapi.json").json()
    assert {"/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/cancel", "/api/jobs/{job_id}/outputs/{name}"} <= set(
        schema["paths"]
    )


def test_examples_are_the_operators_files_or_none(server, tmp_path, short_speech):
    examples = server.client.get("/api/examples").json()
    assert examples["photo"] is None and examples["speech"] is None and len(examples["sentence"].split()) > 5
    missing = server.client.get("/api/examples/photo")
    assert missing.status_code == 404 and "--examples" in missing.json()["detail"]
    assert server.client.get("/api/examples/secret").status_code == 422  # a role, nothing else
    assert server.client.get("/api/examples/..%2F..%2Fetc%2Fpasswd").status_code == 404
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "b_speech.wav").write_bytes(short_speech.read_bytes())
    (folder / "a_notes.txt").write_text("not an example")
    with serving(tmp_path, "--examples", str(folder)) as offering:
        examples = offering.client.get("/api/examples").json()
        assert examples["photo"] is None and examples["speech"] == "/api/examples/speech"
        speech = offering.client.get(examples["speech"])
        assert speech.status_code == 200 and speech.headers["content-type"] == "audio/wav"
        assert speech.content == short_speech.read_bytes()
        assert offering.client.get("/api/examples/speech", headers={"Authorization": ""}).status_code == 401


def server_checkpoint_folder(server) -> str:
    return server.client.get("/api/checkpoints").json()[0]["name"].split("/")[0]


@pytest.mark.slow
def test_talking_photo_from_a_portrait_and_a_clips_sound(server, tmp_path):
    in_shared(PORTRAIT)
    in_shared(GRID_CLIP)
    response = server.submit(
        "talking-photo", {"face": PORTRAIT, "speech": GRID_CLIP}, options=json.dumps({"size": 256, "seed": 3})
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/jobs/{response.json()['id']}"
    seen = set()
    job = response.json()
    while job["status"] in ("queued", "running"):
        job = server.client.get(f"/api/jobs/{job['id']}").json()
        seen.add((job["stage"], job["progress"] is not None and 0 < job["progress"] < 1))
    assert job["status"] == "done", job["error"]
    assert ("animating", True) in seen  # real progress, part way
    names = [o["name"] for o in job["outputs"]]
    assert names == ["video.mp4", "sheet.png"]
    video = server.client.get(job["outputs"][0]["url"])
    assert video.headers["content-type"] == "video/mp4"
    with av.open(str(GRID_CLIP)) as clip:
        speech_seconds = float(clip.duration) / 1e6
    assert abs(duration_of(video.content, tmp_path) - speech_seconds) < 0.15
    assert server.client.get(job["outputs"][1]["url"]).content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_visemes_from_typed_german_text(server):
    job = server.submit("visemes", text="Guten Morgen, wie geht es dir?", voice="de", options='{"fps": 25}').json()
    job = server.wait(job["id"])
    assert job["status"] == "done", job["error"]
    curves = server.client.get(f"/api/jobs/{job['id']}/outputs/curves.json").json()
    phonemes = server.client.get(f"/api/jobs/{job['id']}/outputs/phonemes.json").json()
    assert curves["fps"] == 25 and curves["num_frames"] > 25
    jaw = np.asarray(curves["frames"])[:, curves["names"].index("jawOpen")]
    assert jaw.max() > 0.2 and jaw.min() < 0.05  # the mouth opens and closes
    assert len(phonemes["phonemes"]) > 10


@pytest.mark.slow
def test_lipsync_with_a_checkpoint_from_the_allowed_folder(server, tmp_path, short_speech):
    name = server.client.get("/api/checkpoints").json()[0]["name"]
    job = server.submit("lipsync", {"face": in_shared(GRID_CLIP), "speech": short_speech}, checkpoint=name).json()
    job = server.wait(job["id"])
    assert job["status"] == "done", job["error"]
    assert abs(duration_of(server.client.get(job["outputs"][0]["url"]).content, tmp_path) - 2.4) < 0.15


@pytest.mark.slow
def test_mesh_and_sync_score(server, short_speech):
    from pygltflib import GLTF2

    mesh = server.submit("mesh", {"speech": short_speech}, options='{"size": 192}').json()
    score = server.submit("sync-score", {"face": in_shared(GRID_CLIP)}).json()
    mesh, score = server.wait(mesh["id"]), server.wait(score["id"])
    assert mesh["status"] == "done", mesh["error"]
    glb = GLTF2.load_from_bytes(server.client.get(f"/api/jobs/{mesh['id']}/outputs/face.glb").content)
    assert glb.animations[0].channels[0].target.path == "weights"
    assert "jawOpen" in glb.meshes[0].extras["targetNames"] and len(glb.meshes[0].primitives[0].targets) > 10
    assert score["status"] == "done", score["error"]
    result = server.client.get(f"/api/jobs/{score['id']}/outputs/score.json").json()
    track = result[0]["tracks"][0]
    assert track["frames"] == 75 and abs(track["offset"]) <= 2  # GRID is in sync
    assert server.client.get(f"/api/jobs/{score['id']}/outputs/plot.png").content[:4] == b"\x89PNG"


@pytest.mark.slow
def test_cancel_a_running_job_leaves_no_output(server, speech_path, photo_path):
    job = server.submit("talking-photo", {"face": photo_path, "speech": speech_path}, options='{"size": 256}').json()
    job = server.wait(job["id"], until=("running",))
    while job["stage"] != "animating":  # well into the work
        job = server.client.get(f"/api/jobs/{job['id']}").json()
    answer = server.client.post(f"/api/jobs/{job['id']}/cancel")
    assert answer.status_code == 200
    job = server.wait(job["id"], timeout=30)
    assert job["status"] == "cancelled" and job["outputs"] == []
    folder = server.jobs_dir / job["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["log.txt"]  # no partial file, and the uploads are gone
    assert server.client.get(f"/api/jobs/{job['id']}/outputs/video.mp4").status_code == 404
    assert server.client.delete(f"/api/jobs/{job['id']}").status_code == 200
    assert not folder.exists() and server.client.get(f"/api/jobs/{job['id']}").status_code == 404


def test_a_failing_job_reports_the_commands_error(server, tmp_path, short_speech):
    from PIL import Image

    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)).save(noise)
    job = server.wait(server.submit("talking-photo", {"face": noise, "speech": short_speech}).json()["id"])
    assert job["status"] == "failed" and job["outputs"] == []
    assert "no face" in job["error"] and "\n" not in job["error"] and "Traceback" not in job["error"]
    assert str(server.jobs_dir) not in job["error"] and "/" not in job["error"]  # the server's folders stay its own
    assert [p.name for p in (server.jobs_dir / job["id"]).iterdir()] == ["log.txt"]  # its upload is gone


def test_a_done_job_keeps_its_outputs_and_log_only(server, short_speech):
    job = server.wait(server.submit("visemes", {"speech": short_speech}).json()["id"])
    assert job["status"] == "done"
    kept = sorted(p.name for p in (server.jobs_dir / job["id"]).iterdir())
    outputs = [o["name"] for o in job["outputs"]]
    assert kept == sorted([*outputs, "log.txt"]) and not any(name.startswith("speech") for name in kept)


@pytest.mark.parametrize(
    "method, files, fields, status, message",
    [
        ("dance", {}, {}, 400, "unknown method"),
        ("visemes", {}, {}, 400, "needs speech"),
        ("visemes", {}, {"text": "hi", "options": "{"}, 400, "options"),
        ("visemes", {}, {"text": "hi", "options": '{"speed": 2}'}, 400, "no option 'speed'"),
        ("visemes", {}, {"text": "hi", "options": '{"fps": 1000}'}, 400, "option fps"),
        ("visemes", {}, {"text": "hi", "options": "[1]"}, 400, "JSON object"),
        ("visemes", {}, {"text": "hi", "voice": "klingon"}, 400, "voice"),
        ("visemes", {}, {"text": "x" * 2001}, 400, "at most 2000"),
        ("visemes", {}, {"text": "hi", "options": '{"fps": 1e400}'}, 400, "too large"),
        ("visemes", {}, {"text": "hi", "options": '{"fps": Infinity}'}, 400, "Infinity is not a number"),
        ("visemes", {}, {"text": "hi", "options": '{"fps": NaN}'}, 400, "NaN is not a number"),
        ("visemes", {}, {"text": "hi", "options": '{"fps": 1e300}'}, 400, "option fps"),
        ("visemes", {}, {"text": "hi", "options": "[" * 9000}, 400, "nested too deeply"),
        ("visemes", {}, {"text": "hi", "options": "[" * 200_000}, 400, "at most 10000"),
        ("visemes", {}, {"text": "hel\x00lo"}, 400, "control characters"),
        ("talking-photo", {"face": "photo"}, {"text": "hi", "options": '{"size": 1e400}'}, 400, "too large"),
        ("visemes", {"speech": "text"}, {}, 415, "not an image, audio or video"),
        ("visemes", {"speech": "empty"}, {}, 415, "empty"),
        ("visemes", {"speech": "photo"}, {}, 415, "without sound"),
        ("visemes", {"speech": "wav", "face": "photo"}, {}, 400, "takes no face"),
        ("talking-photo", {"speech": "wav"}, {}, 400, "needs a face"),
        ("talking-photo", {"face": "wav", "speech": "wav"}, {}, 415, "photo or a video"),
        ("talking-photo", {"face": "cut_png", "speech": "wav"}, {}, 415, "not an image"),
        ("talking-photo", {"face": "bomb", "speech": "wav"}, {}, 415, "14000x12000 pixels is too large"),
        ("sync-score", {"face": "photo"}, {}, 415, "video with its sound"),
        ("lipsync", {"speech": "wav"}, {}, 400, "needs a face"),
        ("lipsync", {"face": "photo", "speech": "wav"}, {"checkpoint": "../../etc/passwd"}, 400, "no checkpoint"),
        ("visemes", {"speech": "wav"}, {"checkpoint": "x"}, 400, "takes no checkpoint"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    server, tmp_path, short_speech, photo_path, method, files, fields, status, message
):
    made = {"wav": short_speech, "photo": photo_path}
    (tmp_path / "notes.wav").write_text("not sound at all\n")
    made["text"] = tmp_path / "notes.wav"
    (tmp_path / "empty.mp4").write_bytes(b"")
    made["empty"] = tmp_path / "empty.mp4"
    data = photo_path.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:60])
    made["cut_png"] = tmp_path / "cut.png"
    made["bomb"] = png_claiming(tmp_path / "bomb.png", 14000, 12000)
    before = set(server.jobs_dir.iterdir())
    response = server.submit(method, {role: made[kind] for role, kind in files.items()}, **fields)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert message in detail and "\n" not in detail and "Traceback" not in detail
    assert set(server.jobs_dir.iterdir()) == before  # nothing kept of a refused job


def test_a_decompression_bomb_is_refused_in_under_a_second_without_decoding_it(server, tmp_path, short_speech):
    """A 14000x12000 PNG of 0.5 MB (1 GB once decoded) is refused from its header: at once, and the
    service's memory does not grow by the image."""
    import time

    def peak_mb() -> float:  # the service process's largest resident size so far
        status = Path(f"/proc/{server.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024

    bomb = png_claiming(tmp_path / "bomb.png", 14000, 12000)
    before = peak_mb()
    started = time.monotonic()
    response = server.submit("talking-photo", {"face": bomb, "speech": short_speech})
    assert response.status_code == 415 and time.monotonic() - started < 1.0
    assert peak_mb() - before < 50 and peak_mb() < 200


def test_paths_and_ids_cannot_reach_outside_a_job(server):
    done = [j for j in server.client.get("/api/jobs").json() if j["status"] == "done"]
    job_id = done[0]["id"] if done else "0" * 16
    for path in (
        "/api/jobs/..%2F..%2Fetc%2Fpasswd",
        "/api/jobs/../../etc/passwd",
        f"/api/jobs/{job_id}/outputs/..%2Flog.txt",
        f"/api/jobs/{job_id}/outputs/log.txt",
        f"/api/jobs/{job_id}/outputs/speech.wav",
        "/static/..%2F..%2Fapp.py",
    ):
        response = server.client.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.text


@pytest.mark.slow
def test_uploads_and_outputs_over_the_limits_are_refused(tmp_path, short_speech, speech_path, photo_path):
    with serving(tmp_path, "--max-upload-mb", "1", "--max-job-mb", "1") as small:
        big = tmp_path / "big.wav"
        big.write_bytes(short_speech.read_bytes() * 20)  # 1.5 MB
        response = small.submit("visemes", {"speech": big})
        assert response.status_code == 413 and "at most 1048576 bytes" in response.json()["detail"]
        assert list(small.jobs_dir.iterdir()) == []

        # Without a stated length (chunked), the bytes are counted as they come.
        def chunks():
            yield b'--b\r\nContent-Disposition: form-data; name="method"\r\n\r\nvisemes\r\n'
            for _ in range(40):
                yield b"x" * 65536

        response = small.client.post(
            "/api/jobs", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert response.status_code == 413
        # A job writing more than it may fails with the command's one line, and keeps nothing.
        job = small.submit("talking-photo", {"face": photo_path, "speech": short_speech}, options='{"size": 1024}')
        job = small.wait(job.json()["id"])
        assert job["status"] == "failed", job
        assert "File too large" in job["error"] or "over the limit of 1048576" in job["error"]
        assert not (small.jobs_dir / job["id"] / "video.mp4").exists()


def test_a_full_queue_answers_429_and_loses_no_job(tmp_path, speech_path, photo_path):
    with serving(tmp_path, "--workers", "1", "--queue", "2") as busy:
        accepted, refused = [], []
        for _ in range(5):
            response = busy.submit(
                "talking-photo", {"face": photo_path, "speech": speech_path}, options='{"size": 128}'
            )
            (accepted if response.status_code == 202 else refused).append(response)
        assert len(accepted) == 3  # one running, two waiting
        assert [r.status_code for r in refused] == [429, 429]
        assert "queue is full" in refused[0].json()["detail"] and refused[0].headers["retry-after"] == "30"
        assert [busy.client.get(f"/api/jobs/{r.json()['id']}").json()["position"] for r in accepted[1:]] == [0, 1]
        for response in accepted:  # cancelled, each is accounted for
            busy.client.post(f"/api/jobs/{response.json()['id']}/cancel")
        states = [busy.wait(r.json()["id"], timeout=30)["status"] for r in accepted]
        assert states == ["cancelled"] * 3
        assert busy.client.get("/api/health").json()["jobs"]["cancelled"] == 3


@pytest.mark.slow
def test_a_full_disk_budget_refuses_new_jobs_with_507(tmp_path, short_speech):
    with serving(tmp_path, "--max-disk-mb", "1") as tight:
        big = tmp_path / "big.wav"
        big.write_bytes(short_speech.read_bytes() * 20)  # 1.5 MB
        answer = tight.submit("visemes", {"speech": big})
        assert answer.status_code == 507 and "disk budget" in answer.json()["detail"]
        assert list(tight.jobs_dir.iterdir()) == []
        assert tight.submit("visemes", {"speech": short_speech}).status_code == 202  # what fits is taken


@pytest.mark.slow
def test_disk_stays_within_its_budget_under_100_failing_uploads(tmp_path, short_speech):
    """The attack of a page that posts large faceless images in a loop: each is refused (the queue or the
    disk budget full) or becomes a job that fails; the jobs' folders never take more than --max-disk-mb,
    and the failures leave no uploads behind."""

    from PIL import Image

    noise = tmp_path / "noise.png"  # 1 MB that PNG cannot shrink, and no face in it
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 600, 3), np.uint8)).save(noise)
    budget = 4 << 20

    def used(folder) -> int:
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())

    with serving(tmp_path, "--max-disk-mb", "4", "--workers", "2", "--queue", "8") as service:
        accepted, refused, most = [], 0, 0
        for _ in range(100):  # as fast as the service answers
            answer = service.submit("talking-photo", {"face": noise, "speech": short_speech}, options='{"size": 128}')
            most = max(most, used(service.jobs_dir))
            if answer.status_code == 202:
                accepted.append(answer.json()["id"])
            else:
                assert answer.status_code in (429, 507), answer.text  # the queue or the disk budget is full
                refused += 1
        states = [service.wait(job)["status"] for job in accepted]
        assert states == ["failed"] * len(accepted) and accepted and refused
        assert most <= budget and used(service.jobs_dir) < 256 << 10  # logs, no uploads
        assert not [f for f in service.jobs_dir.rglob("*") if f.suffix in (".png", ".wav")]


@pytest.mark.slow
def test_a_trickling_upload_is_cut_off_with_408(server):
    import socket
    import time

    host, port = server.url.rsplit("/", 1)[1].split(":")
    body = b'--x\r\nContent-Disposition: form-data; name="method"\r\n\r\nvisemes\r\n--x--\r\n' * 40
    head = (
        f"POST /api/jobs HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=40) as connection:
        connection.sendall(head)
        answer = b""
        for k in range(len(body)):  # a byte every 2 s, as a slowloris client sends
            try:
                connection.sendall(body[k : k + 1])
            except OSError:
                break
            connection.settimeout(2.0)
            try:
                answer += connection.recv(4096)
            except TimeoutError:
                continue
            if answer:
                break
        while b"too slow" not in answer and (more := connection.recv(4096)):  # the body after the head
            answer += more
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"too slow" in answer and time.monotonic() - started < 30


def test_500_slow_connections_do_not_stop_a_users_job(server, short_speech):
    """Slowloris: 500 connections whose request heads never end. The service holds a bounded number, a
    new connection closing the longest-waiting ones, so a user's requests and job go through."""
    import socket

    from talkingface.serve.connections import LIMIT

    host, port = server.url.rsplit("/", 1)[1].split(":")
    stalled = []
    try:
        for _ in range(500):
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(f"GET /api/jobs HTTP/1.1\r\nHost: {host}:{port}\r\n".encode())
            stalled.append(connection)
        answer = server.submit("visemes", {"speech": short_speech})
        assert answer.status_code == 202, answer.text
        assert server.wait(answer.json()["id"])["status"] == "done"
        assert server.client.get("/api/jobs").status_code == 200
        assert sum(_closed(c) for c in stalled) >= 500 - LIMIT  # the service let them go
    finally:
        for connection in stalled:
            connection.close()


def _closed(connection) -> bool:
    """Whether the other end closed ``connection`` (without waiting)."""
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
