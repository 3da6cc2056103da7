"""Several replicas of one OpenAI-compatible model server (`mmagent serve`, vLLM, llama.cpp) as
one endpoint: an httpx transport sends each request to the replica with the fewest requests in
flight, takes a replica that fails out of the rotation for a while, and retries the request on
another. Both LLM clients (the OpenAI SDK under ChatOpenAI, ChatLlamaCpp's server path) speak
httpx, so one transport serves both; chat completions are stateless, so a retry is safe.

    client, _ = replica_clients(["http://gpu1:8000/v1", "http://gpu2:8000/v1"], timeout=300)
    client.post("http://gpu1:8000/v1/chat/completions", json=request)  # sent to the less busy one

Requests name the first replica's URL; the transport swaps that prefix for the chosen one's.
Why not Ray Serve: the replicas already exist as plain HTTP servers (one `mmagent serve` or
`vllm serve` per GPU or machine), so balancing where the requests start needs no cluster, no
extra hop and no new dependency; with Ray Serve every request would pass a proxy actor.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx

log = logging.getLogger("mmagent.replicas")

# Statuses that mean "this replica cannot serve now" (a proxy without its backend, a server
# still loading or overloaded), not "this request is wrong": retried on another replica.
UNAVAILABLE = {502, 503, 504}


def endpoint_list(value: str | list[str] | None) -> list[str]:
    """URLs from a setting: a list, or one string with several URLs separated by commas.

    >>> endpoint_list("http://a:8000/v1, http://b:8000/v1/")
    ['http://a:8000/v1', 'http://b:8000/v1']
    """
    items = value if isinstance(value, list) else (value or "").split(",")
    return [u.strip().rstrip("/") for u in items if u and u.strip()]


@dataclass
class Replica:
    url: str
    in_flight: int = 0
    failures: int = 0  # in a row; sets how long it stays out
    down_until: float = 0.0
    served: int = 0


class ReplicaSet:
    """Which replica gets the next request: the fewest in flight among those not taken out;
    when all are out, the one whose time out ends first (a last try beats certain failure)."""

    def __init__(self, urls: list[str], retry_after_s: float = 5.0, max_out_s: float = 60.0) -> None:
        if not urls:
            raise ValueError("a replica set needs at least one URL")
        self.replicas = [Replica(u) for u in urls]
        self.retry_after_s = retry_after_s
        self.max_out_s = max_out_s
        self._lock = threading.Lock()

    @property
    def primary(self) -> str:
        return self.replicas[0].url

    def acquire(self, exclude: set[str]) -> Replica | None:
        now = time.monotonic()
        with self._lock:
            candidates = [r for r in self.replicas if r.url not in exclude]
            if not candidates:
                return None
            up = [r for r in candidates if r.down_until <= now]
            chosen = min(up, key=lambda r: r.in_flight) if up else min(candidates, key=lambda r: r.down_until)
            chosen.in_flight += 1
            return chosen

    def release(self, replica: Replica, ok: bool) -> None:
        with self._lock:
            replica.in_flight -= 1
            if ok:
                replica.failures, replica.down_until = 0, 0.0
                replica.served += 1
                return
            replica.failures += 1
            out = min(self.max_out_s, self.retry_after_s * 2 ** (replica.failures - 1))
            replica.down_until = time.monotonic() + out
        log.warning("model replica %s failed; out of rotation for %.0f s", replica.url, out)

    def route(self, request: httpx.Request, replica: Replica) -> httpx.Request:
        """The request, sent to `replica` instead of the URL it names (the primary's)."""
        url = str(request.url)
        if url.startswith(self.primary):
            url = replica.url + url[len(self.primary) :]
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"]  # httpx sets the new host
        return httpx.Request(request.method, url, headers=headers, content=request.content)

    def settle(
        self, request: httpx.Request, replica: Replica, response: httpx.Response | None, error: Exception | None
    ) -> Exception | None:
        """Record how a try went; None when `response` is the answer, else why to try another."""
        if error is None and response is not None and response.status_code in UNAVAILABLE:
            error = httpx.HTTPStatusError(f"HTTP {response.status_code}", request=request, response=response)
        self.release(replica, ok=error is None)
        return error

    def exhausted(self, request: httpx.Request, last: Exception | None) -> httpx.ConnectError:
        return httpx.ConnectError(
            f"none of the {len(self.replicas)} model replicas answered ({type(last).__name__}: {last})",
            request=request,
        )


class ReplicaTransport(httpx.BaseTransport):
    """httpx transport over a ReplicaSet: a connection error, a cut-off reply, a timeout or an
    unavailable status takes the replica out and sends the request to the next one."""

    def __init__(self, replicas: ReplicaSet, inner: httpx.BaseTransport | None = None) -> None:
        self.replicas = replicas
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        tried: set[str] = set()
        last: Exception | None = None
        while (replica := self.replicas.acquire(tried)) is not None:
            tried.add(replica.url)
            response, error = None, None
            try:
                response = self.inner.handle_request(self.replicas.route(request, replica))
                response.read()  # a server that dies mid-reply fails here, while a retry is still possible
            except httpx.TransportError as exc:
                error = exc
            last = self.replicas.settle(request, replica, response, error)
            if last is None and response is not None:
                return response
        raise self.replicas.exhausted(request, last)

    def close(self) -> None:
        self.inner.close()


class AsyncReplicaTransport(httpx.AsyncBaseTransport):
    """The same over httpx's async client (ChatOpenAI's ainvoke)."""

    def __init__(self, replicas: ReplicaSet, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.replicas = replicas
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        tried: set[str] = set()
        last: Exception | None = None
        while (replica := self.replicas.acquire(tried)) is not None:
            tried.add(replica.url)
            response, error = None, None
            try:
                response = await self.inner.handle_async_request(self.replicas.route(request, replica))
                await response.aread()
            except httpx.TransportError as exc:
                error = exc
            last = self.replicas.settle(request, replica, response, error)
            if last is None and response is not None:
                return response
        raise self.replicas.exhausted(request, last)

    async def aclose(self) -> None:
        await self.inner.aclose()


def replica_clients(urls: list[str], timeout: float) -> tuple[httpx.Client, httpx.AsyncClient]:
    """A sync and an async httpx client balancing over `urls` (one ReplicaSet: in-flight counts
    and failures are shared); requests name `urls[0]`."""
    replicas = ReplicaSet(urls)
    return (
        httpx.Client(transport=ReplicaTransport(replicas), timeout=timeout),
        httpx.AsyncClient(transport=AsyncReplicaTransport(replicas), timeout=timeout),
    )
