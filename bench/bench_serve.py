"""The web service under load on loopback: jobs from several clients at once.

Starts ``talkingface serve`` (one worker, a queue of 4) and has 4 client threads submit 5 jobs each,
alternating viseme curves and a 192 px talking photo of 2.4 s of the bundled speech; a client whose
job is refused with 429 waits a second and tries again. Reports: jobs done / lost, the most jobs seen
waiting, the peak memory of the service and its job processes together (summed RSS, sampled every
0.2 s), throughput, and the time from an upload's answer to the job's first progress report, on an idle
service and under load. The baseline is the same 20 commands run one after another straight from the
command line, in the same run: the ratio is the service's overhead.

    python bench/bench_serve.py [--clients 4] [--jobs-per-client 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import INPUTS


def tree_rss(pid: int) -> int:
    """Summed resident memory (bytes) of ``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        todo += children.get(p, [])
    return total


def main(argv: list[str] | None = None) -> bool:
    import httpx

    from talkingface.media import load_audio, write_wav

    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--jobs-per-client", type=int, default=5)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    speech = write_wav(folder / "speech.wav", load_audio(INPUTS / "two_cities.wav", 16000)[: int(2.4 * 16000)], 16000)
    photo = INPUTS / "astronaut.png"
    kinds = [
        ("visemes", {"speech": speech}, "{}"),
        ("talking-photo", {"face": photo, "speech": speech}, '{"size": 192}'),
    ]

    # Baseline: the same commands, one after another, from the command line.
    started = time.perf_counter()
    total = args.clients * args.jobs_per_client
    for k in range(total):
        name = kinds[k % 2][0]
        out = folder / f"direct{k}"
        out.mkdir()
        argv = (
            [
                "visemes",
                str(speech),
                "-o",
                str(out / "c.json"),
                "--plot",
                str(out / "c.png"),
                "--phonemes",
                str(out / "p.json"),
            ]
            if name == "visemes"
            else [
                "animate",
                "--face",
                str(photo),
                "--audio",
                str(speech),
                "--size",
                "192",
                "-o",
                str(out / "v.mp4"),
                "--sheet",
                str(out / "s.png"),
                "--quiet",
            ]
        )
        subprocess.run([sys.executable, "-m", "talkingface", *argv], check=True, capture_output=True)
    direct = time.perf_counter() - started

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {token}"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talkingface",
            "serve",
            "--port",
            str(port),
            "--jobs-dir",
            str(folder / "jobs"),
            "--workers",
            "1",
            "--queue",
            "4",
            "--token",
            token,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/api/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    peak = {"rss": 0, "waiting": 0}
    sampling = True

    def sample() -> None:
        with httpx.Client(base_url=url, timeout=10, headers=auth) as client:
            while sampling:
                peak["rss"] = max(peak["rss"], tree_rss(server.pid))
                peak["waiting"] = max(peak["waiting"], client.get("/api/health").json()["jobs"]["queued"])
                time.sleep(0.2)

    def submit(client, method, files, options):
        opened = {role: (p.name, p.read_bytes()) for role, p in files.items()}
        for _ in range(600):
            response = client.post("/api/jobs", data={"method": method, "options": options}, files=opened)
            if response.status_code == 202:
                return response.json()["id"], time.time(), refusals
            refusals.append(1)
            time.sleep(1.0)
        raise RuntimeError("never accepted")

    def wait(client, job_id):
        while True:
            job = client.get(f"/api/jobs/{job_id}").json()
            if job["status"] not in ("queued", "running"):
                return job
            time.sleep(0.1)

    refusals: list[int] = []
    try:
        with httpx.Client(base_url=url, timeout=60, headers=auth) as client:  # idle: one job alone
            job_id, answered, _ = submit(client, *kinds[1])
            idle = wait(client, job_id)
            idle_first = idle["first_progress"] - answered
        refusals.clear()
        results: list[dict] = []
        lock = threading.Lock()

        def run_client(c: int) -> None:
            with httpx.Client(base_url=url, timeout=60, headers=auth) as client:
                mine = []
                for j in range(args.jobs_per_client):
                    mine.append(submit(client, *kinds[(c + j) % 2]))
                for job_id, answered, _ in mine:
                    job = wait(client, job_id)
                    job["answered"] = answered
                    with lock:
                        results.append(job)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        started = time.perf_counter()
        clients = [threading.Thread(target=run_client, args=(c,)) for c in range(args.clients)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        elapsed = time.perf_counter() - started
        sampling = False
        watcher.join()
    finally:
        server.terminate()
        server.wait(timeout=60)
    done = [r for r in results if r["status"] == "done"]
    firsts = [r["first_progress"] - r["answered"] for r in done if r["first_progress"]]
    print(f"{total} jobs from {args.clients} clients (1 worker, queue of 4) on loopback, 2.4 s speech")
    print(f"done {len(done)}   failed {sum(r['status'] == 'failed' for r in results)}   lost {total - len(results)}")
    print(f"refused with 429 and retried: {len(refusals)}   most jobs waiting: {peak['waiting']} (bound 4)")
    print(f"peak memory, service and jobs together: {peak['rss'] / 2**20:.0f} MB")
    print(
        f"throughput {len(done) / elapsed * 60:.1f} jobs/min in {elapsed:.1f} s; the command line one after another "
        f"{total / direct * 60:.1f} jobs/min in {direct:.1f} s: service/command-line time {elapsed / direct:.2f}x"
    )
    print(
        f"upload answered -> first progress: idle {idle_first:.2f} s; under load median "
        f"{statistics.median(firsts):.1f} s, most {max(firsts):.1f} s (waiting in the queue included)"
    )
    return len(done) == total and peak["waiting"] <= 4


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
