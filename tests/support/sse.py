"""A reader of ``text/event-stream`` as the HTML standard's EventSource parses it (§9.2.6):
fields ``id``, ``event``, ``data`` (several lines joined by a newline) and ``retry``, comments
after a colon, and an event dispatched at each blank line."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None
    retry: int | None

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.data)
        return body


async def server_sent_events(response: httpx.Response) -> AsyncIterator[ServerSentEvent]:
    """The events of a streamed response, one at a time, as the server flushes them.

    As EventSource does, the last event ID carries over to later events that set none, and a
    block of lines with no ``data`` dispatches nothing (it may still set the retry delay).
    """
    assert response.headers["content-type"].startswith("text/event-stream")
    last_id: str | None = None
    retry: int | None = None
    event = ""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
