"""A data folder whose database holds the pool ``acme``, which the admin commands' tests
share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_minilogin


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose database holds the pool ``acme``."""
    data = tmp_path_factory.mktemp("admin") / "data"
    created = run_minilogin("admin", "create-pool", "acme", "Acme", data_dir=data)
    assert created.returncode == 0, created.stderr
    return data
