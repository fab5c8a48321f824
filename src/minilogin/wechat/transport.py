"""How the WeChat client's requests travel: one small interface, a GET with a query or a POST
of JSON, answered by the status, the content type and the body's bytes, and two
implementations of it.

- :class:`ReqwestTransport`, the production one: pyreqwest (Rust's reqwest and hyper, TLS by
  rustls checking the system's certificate authorities). Of the clients measured side by side
  in ``bench/wechat_http.py`` (httpx, aiohttp, aiosonic, pyreqwest), it costs the server the
  least CPU a call, and the WeChat calls are on every login's and every code's account.
- :class:`HttpxTransport`, over any httpx transport: the tests reach the sandbox in-process
  through ``httpx.ASGITransport`` with it.

A transport turns its library's failures into three of its own, which carry nothing but the
library's name for the failure (the URL of ``jscode2session`` carries the AppSecret, that of
the token-taking calls the access token): :class:`HttpTimeout`, :class:`HttpDropped` (the
connection closed before an answer came; :func:`~minilogin.wechat.errors.send` sends the
request once more) and :class:`HttpUnreachable`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
from pyreqwest import exceptions as reqwest_errors
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.request import ConsumedRequest


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer, whatever its status: WeChat answers most errors with HTTP 200."""

    status: int
    content_type: str
    body: bytes


class HttpFailure(Exception):
    """No answer. ``kind`` is the library's name for what happened, for the logs."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class HttpTimeout(HttpFailure):
    """No answer within the timeout."""


class HttpDropped(HttpFailure):
    """The connection closed before an answer came, as a server closing a kept-alive
    connection just as it is reused does: worth sending once more."""


class HttpUnreachable(HttpFailure):
    """The request could not be sent or its answer not read."""


class WeChatHttp(Protocol):
    """What the WeChat client and the token cache send their requests through."""

    @property
    def timeout(self) -> float | None:
        """Seconds a whole call may take (``None``: no limit)."""
        ...

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply: ...

    async def post_json(
        self, url: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Reply: ...

    async def aclose(self) -> None: ...


_JSON = "application/json"


def _json_body(payload: Mapping[str, Any]) -> bytes:
    # Compact, and Chinese as UTF-8 rather than escapes, as WeChat's own examples send it.
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class ReqwestTransport:
    """pyreqwest's client: one connection pool, HTTP/1.1 as WeChat's documentation shows it,
    no redirects followed (WeChat's API answers none), ``timeout`` seconds for a whole call."""

    def __init__(self, timeout: float, *, trust_pem: bytes | None = None) -> None:
        """``trust_pem``: certificate authorities trusted besides the system's (a private
        WeChat gateway's, or a test's)."""
        self._timeout = timeout
        limit = timedelta(seconds=timeout)
        builder = (
            ClientBuilder()
            .http1_only()
            .follow_redirects(False)
            .timeout(limit)
            .connect_timeout(limit)
        )
        if trust_pem is not None:
            builder = builder.add_root_certificate_pem(trust_pem)
        self._client: Client = builder.build()

    @property
    def timeout(self) -> float | None:
        return self._timeout

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply:
        request = self._client.get(url)
        if params:
            request = request.query(params)
        return await self._send(request.build())

    async def post_json(
        self, url: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Reply:
        request = self._client.post(url).header("content-type", _JSON)
        if params:
            request = request.query(params)
        return await self._send(request.body_bytes(_json_body(payload)).build())

    async def _send(self, request: ConsumedRequest) -> Reply:
        try:
            response = await request.send()
            body = bytes(await response.bytes())
        except reqwest_errors.RequestTimeoutError as exc:
            raise HttpTimeout(type(exc).__name__) from None
        except (reqwest_errors.ConnectError, reqwest_errors.WriteError) as exc:
            # hyper reports a kept-alive connection closed before the answer ("connection
            # closed before message completed") as a ConnectError, as it does a refused
            # connection: one more try costs a refused connection nothing but a SYN.
            raise HttpDropped(type(exc).__name__) from None
        except reqwest_errors.RequestError as exc:
            raise HttpUnreachable(type(exc).__name__) from None
        return Reply(response.status, response.headers.get("content-type") or "", body)

    async def aclose(self) -> None:
        await self._client.close()


class HttpxTransport:
    """An httpx client (the tests' in-process sandbox: ``httpx.ASGITransport``); its read
    timeout bounds each call."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    @property
    def timeout(self) -> float | None:
        return self.http.timeout.read

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Reply:
        return await self._send("GET", url, params, None)

    async def post_json(
        self, url: str, payload: Mapping[str, Any], params: Mapping[str, str] | None = None
    ) -> Reply:
        return await self._send("POST", url, params, _json_body(payload))

    async def _send(
        self, method: str, url: str, params: Mapping[str, str] | None, body: bytes | None
    ) -> Reply:
        headers = {"content-type": _JSON} if body is not None else None
        try:
            response = await self.http.request(
                method, url, params=params, content=body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise HttpTimeout(type(exc).__name__) from None
        except httpx.RemoteProtocolError as exc:
            raise HttpDropped(type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise HttpUnreachable(type(exc).__name__) from None
        content_type = response.headers.get("content-type", "")
        return Reply(response.status_code, content_type, response.content)

    async def aclose(self) -> None:
        await self.http.aclose()
