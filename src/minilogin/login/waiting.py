"""The browsers waiting on this process (long polls and event streams), and its stopping.

A deploy stops instances one by one (SIGTERM). A browser cut off mid-wait sees a network
error; one answered with its login's current state simply asks again, and the load balancer
sends it to an instance that stays. So when the process begins to stop, every waiting browser
is woken at once: a long poll answers the current status (200), an event stream ends with a
``retry:`` hint (``web/login_api.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from minilogin.storage.ephemeral.base import Subscription


class Waiting:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self.stopping = False

    @contextmanager
    def watch(self, subscription: Subscription) -> Iterator[Subscription]:
        """``subscription`` is woken (``RESYNC``) when the process begins to stop."""
        self._subscriptions.add(subscription)
        try:
            if self.stopping:
                subscription.resync()
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def stop(self) -> None:
        """The process is stopping: answer every waiting browser now, and any arriving later
        (on a connection that was already open) without waiting."""
        self.stopping = True
        for subscription in list(self._subscriptions):
            subscription.resync()
