"""The service's connections: a bounded number, and a slow client cannot take them all.

:func:`shedding_protocol` gives uvicorn's HTTP/1.1 protocol (h11) with one rule added. When a connection
arrives and :data:`LIMIT` are already open, the connections that are not in the middle of a request
(still sending their request's head, as a slowloris client does forever, or idle between requests) are
closed until there is room, those that have waited longest first (since they opened, or since their
last response). A client that sends its request at once is therefore served
however many slow connections are open; connections busy with requests (an upload under way, a
response being sent) are never closed, and when all of them are busy uvicorn answers 503 at once.
Uploads that trickle are cut off by :mod:`.uploads` (408).
"""

from __future__ import annotations

#: Connections held at once.
LIMIT = 64


def shedding_protocol(limit: int = LIMIT) -> type:
    """uvicorn's h11 protocol class, closing the oldest idle or unfinished connections beyond ``limit``."""
    from ..optional import needs

    with needs("serve"):
        from uvicorn.protocols.http.h11_impl import H11Protocol

    class SheddingProtocol(H11Protocol):
        def connection_made(self, transport) -> None:
            self.waiting_since = self.loop.time()
            super().connection_made(transport)
            if len(self.connections) <= limit:
                return
            waiting = sorted((c for c in self.connections if c is not self and _between_requests(c)), key=_age)
            for other in waiting[: len(self.connections) - limit]:
                self.connections.discard(other)  # at once: uvicorn's own bound counts the open ones
                other.transport.close()

        def on_response_complete(self) -> None:
            self.waiting_since = self.loop.time()
            super().on_response_complete()

    return SheddingProtocol


def _between_requests(connection) -> bool:
    """Whether ``connection`` is not in a request: its first request's head is still coming, or its last
    response is sent and the next request has not begun."""
    cycle = getattr(connection, "cycle", None)
    return cycle is None or bool(cycle.response_complete)


def _age(connection) -> float:
    return float(getattr(connection, "waiting_since", 0.0))
