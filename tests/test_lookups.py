"""The shared lookups: a pool or application by its public name, instants, logo URLs."""

from __future__ import annotations

import pytest

from minilogin.core.entities import Application, IdentitySource, Pool
from minilogin.core.errors import NotFound
from minilogin.lookups import iso, load_application, load_pool, logo_url


class Catalogue:
    """One pool with one application, read the way the stores and the cache answer."""

    def __init__(self) -> None:
        self.pool = Pool(slug="acme", name="Acme", id="pool-1")
        self.application = Application(pool_id="pool-1", client_id="web", name="Web")

    async def get_pool(self, slug: str) -> Pool | None:
        return self.pool if slug == self.pool.slug else None

    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        known = (self.application.pool_id, self.application.client_id)
        return self.application if (pool_id, client_id) == known else None


async def test_a_pool_and_its_application_are_found_by_name() -> None:
    catalogue = Catalogue()

    pool = await load_pool(catalogue, "acme")

    assert pool is catalogue.pool
    assert await load_application(catalogue, pool, "web") is catalogue.application


async def test_unknown_names_are_not_found() -> None:
    catalogue = Catalogue()
    other = Pool(slug="other", name="Other", id="pool-2")

    with pytest.raises(NotFound) as pool:
        await load_pool(catalogue, "nobody")
    with pytest.raises(NotFound) as client:
        await load_application(catalogue, catalogue.pool, "nobody")
    with pytest.raises(NotFound) as elsewhere:
        await load_application(catalogue, other, "web")  # another pool's client_id

    assert pool.value.code == "unknown_pool"
    assert client.value.code == elsewhere.value.code == "unknown_client"


def test_instants_are_written_in_utc_to_the_second() -> None:
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1_700_000_000.9) == "2023-11-14T22:13:20Z"


def test_a_logo_url_names_the_issuer_the_source_and_its_version() -> None:
    source = IdentitySource(pool_id="pool-1", unique_id="wechat", display_name="WeChat")
    assert logo_url("https://id.example.com/pools/acme", source) is None

    source.logo, source.logo_version = b"\x89PNG", 3
    assert (
        logo_url("https://id.example.com/pools/acme", source)
        == "https://id.example.com/pools/acme/connections/wechat/logo.png?v=3"
    )
