"""Who may use the service: an access token, the Host a request names, and the Origin it comes from.

- **Token.** Every ``/api`` request but ``/api/health`` carries the service's token, as
  ``Authorization: Bearer TOKEN`` (scripts) or in the ``talkingface_token`` cookie (the page). Opening
  ``/?token=TOKEN`` once sets the cookie (HttpOnly, SameSite=Strict) and sends the browser on to ``/``,
  so the token leaves the address bar. One token is one user: whoever holds it sees, downloads and
  removes every job.
- **Host.** A request whose ``Host`` is a name other than ``localhost``, the address the service is
  bound to, or one the operator allowed is refused: a web page cannot reach the service through a
  name of its own that resolves to this machine (DNS rebinding). IP addresses are always accepted.
- **Origin.** A request that changes something (POST, PUT, PATCH, DELETE) from a page of another
  origin is refused, even one sent with ``mode: 'no-cors'``.

Every answer carries :data:`SECURITY_HEADERS` (a content security policy with no inline script and no
framing, ``nosniff``, no referrer); every refusal is JSON with a one-line ``detail``, as the rest of
the API's.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

COOKIE = "talkingface_token"
#: What a page of this service may load and run: its own files only, no inline script, never framed.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: Headers on every answer: the policy above, no guessing of content types, no framing, no referrer.
SECURITY_HEADERS = (
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
OPEN_PATHS = ("/api/health",)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def host_name(host: str) -> str:
    """The name in a ``Host`` header or an origin's authority, without its port, lower case
    (``[::1]:7860`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Access:
    """ASGI middleware enforcing the token, the Host and the Origin rules above. ``token`` None lets
    every request through the token check (the operator said ``--no-auth``); ``hosts`` are the names
    that may appear in ``Host``, besides IP addresses."""

    def __init__(self, app: Any, token: str | None, hosts: tuple[str, ...]):
        self.app, self.token = app, token
        self.hosts = frozenset(host_name(h) for h in (*hosts, "localhost"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self._guard(scope, receive, secured)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, str] = {}
        for key, value in scope.get("headers") or []:
            headers[key.decode("latin-1").lower()] = value.decode("latin-1")
        host = headers.get("host", "")
        name = host_name(host)
        if not (_is_address(name) or name in self.hosts):
            shown = name[:80] or "(none)"
            await _refuse(send, 421, f"host {shown!r} is not this service's (start it with --allowed-host {shown})")
            return
        origin = headers.get("origin")
        if scope["method"] in _UNSAFE and origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            await _refuse(send, 403, f"a page of another origin ({origin[:80]}) may not change anything here")
            return
        path = scope["path"]
        if self.token is not None and path == "/" and scope["method"] == "GET":
            given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
            if given:
                await self._enter(send, given[0])
                return
        locked = self.token is not None and path.startswith("/api/") and path not in OPEN_PATHS
        if locked and not self._holds_token(headers):
            await _refuse(
                send,
                401,
                "this service needs its access token: open the address `talkingface serve` printed, "
                "or send `Authorization: Bearer TOKEN`",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        await self.app(scope, receive, send)

    def _matches(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def _holds_token(self, headers: dict[str, str]) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._matches(given.strip()):
            return True
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:
            return False
        return COOKIE in cookies and self._matches(cookies[COOKIE].value)

    async def _enter(self, send: Send, given: str) -> None:
        """``/?token=``: the right token becomes the page's cookie and the browser goes on to ``/``."""
        if not self._matches(given):
            await _refuse(send, 401, "wrong access token: open the address `talkingface serve` printed")
            return
        cookie = f"{COOKIE}={given}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})
