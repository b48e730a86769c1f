"""Who may use a real service on loopback: its token, the Host a request names, the Origin it comes from,
and the operator's choices at start (a token of their own, none at all on this machine only)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from tests.serve.conftest import TOKEN, serving


def test_the_api_needs_the_token_and_health_does_not(server):
    bare = httpx.Client(base_url=server.url, timeout=30)
    for path in ("/api/jobs", "/api/methods", "/api/checkpoints"):
        answer = bare.get(path)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert "access token" in answer.json()["detail"]
    assert bare.post("/api/jobs", data={"method": "mesh"}).status_code == 401
    assert bare.delete("/api/jobs/0123456789abcdef").status_code == 401
    assert bare.get("/api/jobs", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"}).status_code == 401
    assert bare.get("/api/jobs", headers={"Authorization": "Basic " + TOKEN}).status_code == 401
    assert bare.get("/api/jobs", headers={"Authorization": "Bearer " + TOKEN}).status_code == 200
    assert bare.get("/api/health").status_code == 200  # the readiness check needs nothing
    assert bare.get("/").status_code == 200  # the page itself holds nothing


def test_the_printed_address_gives_the_page_its_cookie(server):
    bare = httpx.Client(base_url=server.url, timeout=30)
    wrong = bare.get("/?token=not-the-token")
    assert wrong.status_code == 401 and "cookie" not in {k.lower() for k in wrong.headers}
    entered = bare.get(f"/?token={TOKEN}")
    assert entered.status_code == 303 and entered.headers["location"] == "/"
    cookie = entered.headers["set-cookie"]
    assert cookie.startswith(f"talkingface_token={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert bare.get("/api/jobs").status_code == 200  # the client keeps the cookie, as a browser does


def test_another_host_name_is_refused_even_with_the_token(server):
    # DNS rebinding: a site's own name resolving to this machine.
    for host in ("evil.example", "evil.example:80", "localhost.evil.example"):
        answer = server.client.get("/api/jobs", headers={"Host": host})
        assert answer.status_code == 421 and "--allowed-host" in answer.json()["detail"]
    assert server.client.get("/", headers={"Host": "evil.example"}).status_code == 421
    port = server.url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "LOCALHOST"):
        assert server.client.get("/api/jobs", headers={"Host": host}).status_code == 200


def test_a_page_of_another_origin_cannot_start_or_remove_jobs(server):
    fields = {"method": "visemes", "text": "hello there"}
    for origin in ("http://evil.example", "null", server.url.replace("127.0.0.1", "localhost")):
        answer = server.client.post("/api/jobs", data=fields, headers={"Origin": origin})
        assert answer.status_code == 403 and "another origin" in answer.json()["detail"]
        assert server.client.delete("/api/jobs/0123456789abcdef", headers={"Origin": origin}).status_code == 403
    same = server.client.post("/api/jobs", data=fields, headers={"Origin": server.url})
    assert same.status_code == 202
    server.wait(same.json()["id"])


def test_an_allowed_host_and_a_token_of_the_operators(tmp_path):
    token = "my-own-token-for-this-service"
    with serving(tmp_path, "--token", token, "--allowed-host", "studio.lan") as running:
        assert running.client.get("/api/jobs", headers={"Host": "studio.lan"}).status_code == 200
        assert httpx.get(running.url + "/api/jobs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 401
        printed = (tmp_path / "server.log").read_text()
        assert f"?token={token}" in printed


def test_no_auth_only_on_this_machine_and_said_loudly(tmp_path):
    with serving(tmp_path, "--no-auth") as running:
        assert httpx.get(running.url + "/api/jobs").status_code == 200
        assert httpx.get(running.url + "/api/jobs", headers={"Host": "evil.example"}).status_code == 421
        assert "WARNING: no access token" in (tmp_path / "server.log").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-auth", "--host", "0.0.0.0"], "only a service on this machine alone"),
        (["--token", "short"], "16 to 256"),
        (["--token", "has spaces in it, twenty"], "16 to 256"),
        (["--no-auth", "--token", "0123456789abcdefgh"], "choose one"),
    ],
)
def test_unsafe_or_malformed_choices_are_refused_at_start(tmp_path, argv, message):
    result = subprocess.run(
        [sys.executable, "-m", "talkingface", "serve", "--jobs-dir", str(tmp_path / "jobs"), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "jobs").exists()


def test_every_answer_carries_the_security_headers_and_no_server_version(server):
    bare = httpx.Client(base_url=server.url, timeout=30)
    answers = [
        bare.get("/"),
        bare.get("/static/app.js"),
        bare.get("/api/jobs"),  # refused: 401
        server.client.get("/api/jobs"),
        bare.get("/api/jobs", headers={"Host": "evil.example"}),  # refused: 421
        bare.get("/docs"),
        bare.get("/no-such-page"),
    ]
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "server" not in answer.headers
    assert [a.status_code for a in answers] == [200, 200, 401, 200, 421, 200, 404]


def test_the_api_docs_are_served_from_here(server):
    page = httpx.get(server.url + "/docs").text
    assert "<script>" not in page and "cdn" not in page.lower() and "//" not in page.replace("://", "")
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css", "/static/docs.js"):
        assert httpx.get(server.url + asset).status_code == 200, asset
