"""The WeChat sandbox as an operator runs it, ``minilogin sandbox``, in a process of its own on a
free port, reached over HTTP like WeChat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.server import free_port, launch, wait_until_serving


@contextmanager
def sandbox_process(log_dir: Path) -> Iterator[str]:
    """Yields the sandbox's public URL; the process is stopped and reaped afterwards."""
    port = free_port()
    instance = launch(log_dir, ["sandbox", "--log-level", "warning"], {}, port)
    try:
        wait_until_serving(instance, "/_sandbox/wechat/stats")
        yield instance.url
    finally:
        instance.stop()
