"""Knowing that the server begins to stop, before it waits for open connections.

uvicorn, on SIGTERM or SIGINT, stops listening and then waits (up to its graceful timeout) for
every open request to end; only after that does the application hear of it (lifespan
shutdown). A long poll or an event stream would hold it the whole time and then be cut. So the
application chains its own step in front of uvicorn's signal handlers: wake every waiting
browser (``login/waiting.py``), then let uvicorn go on as usual.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def on_stop_signal(callback: Callable[[], None]) -> Iterator[None]:
    """While the block runs, ``callback`` runs on this loop when a stop signal arrives, before
    the handler that was there (uvicorn's). Signals reach only the main thread, so a server
    run in another thread (the tests' in-process servers) is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    # Only where a server handles the signal: the default action (dying) needs no help.
    previous = {sig: h for sig in SIGNALS if callable(h := signal.getsignal(sig))}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        previous[signal.Signals(signum)](signum, frame)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, chained in previous.items():
            signal.signal(sig, chained)
