"""The job manager on its own: jobs past their time limit are stopped, old finished jobs expire; the
methods' command lines."""

from __future__ import annotations

import time

import pytest

from talkingface.errors import InputError
from talkingface.serve.jobs import Job, JobManager
from talkingface.serve.methods import METHODS


def test_a_job_past_its_time_limit_is_stopped_and_fails(tmp_path, speech_path, photo_path):
    manager = JobManager(tmp_path / "jobs", max_seconds=1.0)
    try:
        job_id, folder = manager.new_folder()
        (folder / "face.png").write_bytes(photo_path.read_bytes())
        (folder / "speech.wav").write_bytes(speech_path.read_bytes())
        options = METHODS["talking-photo"].parse_options({})
        job = Job(job_id, METHODS["talking-photo"], folder, options, face="face.png", speech="speech.wav")
        manager.submit(job)
        deadline = time.monotonic() + 60
        while job.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.status == "failed" and job.error == "stopped after 1 s, the limit of a job"
        assert sorted(p.name for p in folder.iterdir()) == ["log.txt"]  # the uploads go when the job ends
    finally:
        manager.close()


def test_finished_jobs_expire_with_their_folders(tmp_path):
    manager = JobManager(tmp_path / "jobs", max_age=60.0)
    try:
        jobs = []
        for status in ("done", "failed", "cancelled"):
            job_id, folder = manager.new_folder()
            (folder / "curves.json").write_text("{}")
            job = Job(job_id, METHODS["visemes"], folder, {}, status=status, finished=time.time())
            manager._jobs[job_id] = job
            jobs.append(job)
        assert manager.expire(now=time.time() + 30) == 0  # not old enough
        assert manager.expire(now=time.time() + 61) == 3
        assert list((tmp_path / "jobs").iterdir()) == []
        assert all(manager.get(j.id) is None for j in jobs)
    finally:
        manager.close()


def test_the_mouth_upscaler_is_offered_where_there_is_a_video_of_a_face():
    for name in ("talking-photo", "lipsync"):
        method = METHODS[name]
        options = method.parse_options({"enhance": "upscaler"})
        argv = method.argv("face.png", "speech.wav", None, "g.pth" if name == "lipsync" else None, options)
        assert argv[argv.index("--enhance") + 1] == "upscaler"
        default = method.argv("face.png", "speech.wav", None, None, method.parse_options({}))
        assert default[default.index("--enhance") + 1] == "none"
        assert "--checkpoint" not in default  # lip-sync without one dubs with the speaker's own mouths
        with pytest.raises(InputError, match="option enhance"):
            method.parse_options({"enhance": "gfpgan"})  # GFPGAN needs a file the server does not have


def test_failed_and_cancelled_jobs_expire_sooner_than_done_ones(tmp_path):
    from talkingface.serve.jobs import FAILED_AGE

    manager = JobManager(tmp_path / "jobs", max_age=3600.0)
    try:
        jobs = {}
        for status in ("done", "failed", "cancelled"):
            job_id, folder = manager.new_folder()
            (folder / "log.txt").write_text("talkingface visemes: error: something\n")
            jobs[status] = manager._jobs[job_id] = Job(
                job_id, METHODS["visemes"], folder, {}, status=status, finished=time.time()
            )
        assert manager.expire(now=time.time() + FAILED_AGE / 2) == 0
        assert manager.expire(now=time.time() + FAILED_AGE + 1) == 2
        assert manager.get(jobs["done"].id) is jobs["done"] and manager.get(jobs["failed"].id) is None
        assert manager.expire(now=time.time() + 3601) == 1
    finally:
        manager.close()
