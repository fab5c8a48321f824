"""The SQL stores together (``storage/sql/stores.py``), on every backend of ``stores``: each
implements its port of ``minilogin.ports``, and secrets stay sealed at rest."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from tests.storage.sql.given import APP_SECRET, PRIVATE_JWK, a_pool, a_source, raw_rows

from minilogin import ports
from minilogin.core.entities import SigningKey
from minilogin.storage.sql import SqlStores

# Each store beside the port it implements, by the name ``SqlStores`` gives it.
PORTS = {
    "pools": ports.PoolStore,
    "applications": ports.ApplicationStore,
    "identity_sources": ports.IdentitySourceStore,
    "users": ports.UserStore,
    "refresh_tokens": ports.RefreshTokenStore,
    "signing_keys": ports.SigningKeyStore,
    "code_images": ports.CodeImageStore,
    "audit_events": ports.AuditStore,
    "admins": ports.AdminStore,
}


@pytest.mark.parametrize("name", sorted(PORTS))
async def test_each_store_has_every_method_of_its_port_with_its_parameters(
    stores: SqlStores, name: str
) -> None:
    port = PORTS[name]
    store = type(getattr(stores, name))
    methods = {
        method: member
        for method, member in vars(port).items()
        if inspect.iscoroutinefunction(member)
    }
    assert methods
    for method, member in methods.items():
        implementation = getattr(store, method)
        assert inspect.iscoroutinefunction(implementation), method
        assert list(inspect.signature(implementation).parameters) == list(
            inspect.signature(member).parameters
        ), method


async def test_sql_stores_holds_one_store_per_port(stores: SqlStores) -> None:
    assert set(PORTS) == set(vars(stores)) - {"_db"}


async def test_secrets_are_encrypted_at_rest(stores: SqlStores, database_url: str) -> None:
    pool = await a_pool(stores)
    await a_source(stores, pool, app_secret=APP_SECRET)
    await stores.signing_keys.add_signing_key(
        SigningKey(
            kid="k1", algorithm="ES256", private_jwk=PRIVATE_JWK, public_jwk="{}", pool_id=pool.id
        )
    )
    stored = await raw_rows(database_url, "SELECT * FROM identity_sources")
    stored += await raw_rows(database_url, "SELECT * FROM signing_keys")
    for value in (value for row in stored for value in row):
        as_bytes = value if isinstance(value, bytes) else str(value).encode()
        assert APP_SECRET.encode() not in as_bytes
        assert b"private-scalar" not in as_bytes

    await stores.close()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = list(Path(url.database).parent.iterdir())
        assert files
        for file in files:
            content = file.read_bytes()
            assert APP_SECRET.encode() not in content, file
            assert b"private-scalar" not in content, file
