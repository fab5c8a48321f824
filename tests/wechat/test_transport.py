"""The transports over real sockets: what reaches the server (method, path, query, JSON body),
what comes back (status, content type, the body's bytes), TLS that trusts only known
certificate authorities, as real WeChat is reached, and the AppSecret kept out of logs."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.errors import WeChatError, send
from minilogin.wechat.token_cache import AccessTokenCache
from minilogin.wechat.transport import ReqwestTransport, WeChatHttp
from minilogin.wechat.types import MiniProgram

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


@dataclass
class Recorder:
    """An HTTP/1.1 server that records each request's head and body and answers a JPEG (for
    a POST) or a JSON errcode (for a GET) on a kept-alive connection."""

    heads: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := (await reader.readuntil(b"\r\n\r\n")).decode("latin-1"):
                self.heads.append(head)
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                self.bodies.append(await reader.readexactly(length))
                if head.startswith("POST"):
                    kind, body = b"image/jpeg", JPEG
                else:
                    kind, body = b"text/plain", b'{"errcode":40029,"errmsg":"invalid code"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def _serve(recorder: Recorder, tls: ssl.SSLContext | None) -> asyncio.Server:
    server = await asyncio.start_server(recorder.handle, "127.0.0.1", 0, ssl=tls)
    recorder.port = server.sockets[0].getsockname()[1]
    return server


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    recorded = Recorder()
    async with await _serve(recorded, None):
        yield recorded


async def test_a_get_sends_its_query_and_answers_the_bytes_and_their_type(
    recorder: Recorder, network: WeChatHttp
) -> None:
    url = f"http://127.0.0.1:{recorder.port}/sns/jscode2session"

    reply = await network.get(url, {"appid": "wx1", "js_code": "a b&c"})

    assert reply.status == 200
    assert reply.content_type == "text/plain"
    assert json.loads(reply.body) == {"errcode": 40029, "errmsg": "invalid code"}
    method, target, version = recorder.heads[0].split("\r\n")[0].split(" ")
    assert (method, version) == ("GET", "HTTP/1.1")
    assert urlsplit(target).path == "/sns/jscode2session"
    assert parse_qsl(urlsplit(target).query) == [("appid", "wx1"), ("js_code", "a b&c")]


async def test_a_post_sends_json_and_answers_an_image_whole(
    recorder: Recorder, network: WeChatHttp
) -> None:
    url = f"http://127.0.0.1:{recorder.port}/wxa/getwxacodeunlimit"
    payload = {"scene": "场景1", "check_path": False, "width": 430}

    first = await network.post_json(url, payload, {"access_token": "T"})
    second = await network.post_json(url, payload, {"access_token": "T"})

    assert (first.status, first.content_type, first.body) == (200, "image/jpeg", JPEG)
    assert second.body == JPEG
    head = recorder.heads[0]
    assert head.startswith("POST /wxa/getwxacodeunlimit?access_token=T HTTP/1.1\r\n")
    assert "content-type: application/json" in head.lower()
    assert json.loads(recorder.bodies[0]) == payload


def _authority(folder: Path) -> tuple[bytes, ssl.SSLContext]:
    """A certificate authority's PEM, and a server context with a certificate it signed for
    127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "minilogin test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return ca.public_bytes(serialization.Encoding.PEM), context


async def test_tls_is_checked_against_the_trusted_authorities(tmp_path: Path) -> None:
    authority, context = _authority(tmp_path)
    recorded = Recorder()
    async with await _serve(recorded, context):
        url = f"https://127.0.0.1:{recorded.port}/sns/jscode2session"
        stranger = ReqwestTransport(2.0)
        trusting = ReqwestTransport(2.0, trust_pem=authority)
        try:
            with pytest.raises(WeChatError) as caught:
                await send(stranger, "GET", url, "jscode2session", params={"js_code": "x"})
            reply = await send(trusting, "GET", url, "jscode2session", params={"js_code": "x"})
        finally:
            await stranger.aclose()
            await trusting.aclose()

    assert caught.value.code == "wechat_unreachable"
    assert json.loads(reply.body)["errcode"] == 40029
    assert len(recorded.heads) == 1  # the untrusted server never saw the request


async def test_the_appsecret_stays_out_of_every_log_and_error(
    recorder: Recorder, network: WeChatHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = f"http://127.0.0.1:{recorder.port}"
    secret = "0123456789abcdef0123456789abcdef"
    client = WeChatClient(network, base, AccessTokenCache(MemoryStore(), network, base))

    with pytest.raises(WeChatError) as caught:
        await client.code_to_session(MiniProgram("wx1", secret), "js-code")

    assert caught.value.errcode == 40029
    assert f"secret={secret}" in recorder.heads[0]  # sent to WeChat, as code2Session asks
    assert secret not in caplog.text
    assert secret not in f"{caught.value} {caught.value.detail} {caught.value!r}"
