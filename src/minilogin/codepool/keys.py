"""The code pool's keys in the ephemeral store, shared by every instance.

- ``codepool:{gen}:fresh`` (single use) the fresh codes, ``{scene} {made at}``, oldest first;
- ``codepool:{gen}:size`` (recycling) how many slots the ring has (grown by compare-and-set),
  ``codepool:{gen}:slot:{i}`` the scene in slot ``i`` and when it was made, and
  ``codepool:{gen}:cursor`` a counter: each lease starts probing where the last one stopped,
  so the ring is walked in order and the slot tried first is the one leased longest ago;
- ``codepool:{gen}:leases:{minute}`` leases per minute, all instances together: the load the
  target and the filler's pace follow;
- ``codepool:{gen}:fill-lock`` the instance filling the generation now, and
  ``codepool:{gen}:fill-next`` when the filler may make its next batch of codes and how many
  (``policy.FillPlan``): one pace for all instances, whichever of them holds the lock;
  ``codepool:{gen}:swept`` when the generation was last swept;
- ``codepool:lease:{appid}:{scene}`` (recycling) the QR login holding the scene, taken with
  ``add`` (so two instances can never lease one scene) for the login's longest life plus the
  quarantine, and shortened to the quarantine when the login is consumed or cancelled. A
  login that just expires fires no event (expiry is lazy), so its lease simply runs out;
- ``codepool:page-error:{pool}:{source}`` the identity source's page that WeChat refused
  (errcode 41030): a configuration error, shown to administrators; codes for it are not
  retried until its back-off has passed;
- ``codepool:budget:{appid}:{minute}`` the ``getwxacodeunlimit`` calls of the minute;
- ``codepool:images-swept`` held by the instance that deletes the images whose time has
  passed, once an interval.
"""

from __future__ import annotations

from minilogin.core.entities import IdentitySource

IMAGES_SWEPT = "codepool:images-swept"


def fresh(generation: str) -> str:
    return f"codepool:{generation}:fresh"


def size(generation: str) -> str:
    return f"codepool:{generation}:size"


def slot(generation: str, index: int) -> str:
    return f"codepool:{generation}:slot:{index}"


def cursor(generation: str) -> str:
    return f"codepool:{generation}:cursor"


def leases(generation: str, bucket: int) -> str:
    return f"codepool:{generation}:leases:{bucket}"


def fill_lock(generation: str) -> str:
    return f"codepool:{generation}:fill-lock"


def fill_next(generation: str) -> str:
    return f"codepool:{generation}:fill-next"


def swept(generation: str) -> str:
    return f"codepool:{generation}:swept"


def page_error(source: IdentitySource) -> str:
    return f"codepool:page-error:{source.pool_id}:{source.unique_id}"


def lease(app_id: str, scene: str) -> str:
    return f"codepool:lease:{app_id}:{scene}"


def budget(app_id: str, window: int) -> str:
    return f"codepool:budget:{app_id}:{window}"
