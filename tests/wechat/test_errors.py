"""``send``: one request to WeChat over a real socket, through each transport, and what a
dropped connection or a silent server gives."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from minilogin.wechat.errors import WeChatError, send
from minilogin.wechat.transport import HttpxTransport, ReqwestTransport, WeChatHttp

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b'Content-Length: 27\r\n\r\n{"errcode":0,"errmsg":"ok"}'
)


class Server:
    """A plain TCP server that hangs up on the first ``drops`` requests without answering, as
    a server closing a kept-alive connection does, then answers each request."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.requests = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            self.requests += 1
            if self.requests <= self.drops:
                break
            writer.write(ANSWER)
            await writer.drain()
        writer.close()


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    server = Server(drops=request.param)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


@pytest.mark.parametrize("served", [1], indirect=True)
async def test_a_connection_dropped_before_the_answer_is_retried_once(
    served: Server, network: WeChatHttp
) -> None:
    reply = await send(network, "GET", f"http://127.0.0.1:{served.port}/sns/x", "x")

    assert json.loads(reply.body) == {"errcode": 0, "errmsg": "ok"}
    assert served.requests == 2


@pytest.mark.parametrize("served", [5], indirect=True)
async def test_a_server_that_keeps_hanging_up_is_unreachable(
    served: Server, network: WeChatHttp
) -> None:
    with pytest.raises(WeChatError) as caught:
        await send(network, "GET", f"http://127.0.0.1:{served.port}/sns/x", "jscode2session")

    assert caught.value.code == "wechat_unreachable"
    assert served.requests == 2


@pytest.mark.parametrize("kind", ["pyreqwest", "httpx"])
async def test_a_server_that_never_answers_is_a_timeout(kind: str) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)
        writer.close()

    listening = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    transport: WeChatHttp = (
        ReqwestTransport(0.3)
        if kind == "pyreqwest"
        else HttpxTransport(httpx.AsyncClient(timeout=0.3))
    )
    started = time.monotonic()
    async with listening:
        with pytest.raises(WeChatError) as caught:
            await send(transport, "POST", f"http://127.0.0.1:{port}/x", "x", json={"a": 1})
        await transport.aclose()

    assert caught.value.code == "wechat_timeout"
    assert time.monotonic() - started < 2
