"""The wiring hands each part its share of the settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from minilogin.config import Settings
from minilogin.wiring import pool_settings


def test_the_code_pool_gets_every_code_pool_setting(tmp_path: Path) -> None:
    settings = Settings(
        public_url="http://minilogin.test",
        data_dir=tmp_path,
        code_pool_recycle=True,
        code_pool_quarantine=30,
        code_pool_min_size=3,
        code_pool_max_size=40,
        code_pool_headroom=2.5,
        code_pool_fill_rate=7.0,
        code_pool_budget_per_minute=900,
    )

    pool = pool_settings(settings)

    assert dataclasses.asdict(pool) == {
        "recycle": True,
        "quarantine": 30.0,
        "min_size": 3,
        "max_size": 40,
        "headroom": 2.5,
        "fill_rate": 7.0,
        "budget_per_minute": 900,
    }
    # A code pool setting added later must reach the pool too (or be named here as not).
    named = {name for name in Settings.model_fields if name.startswith("code_pool_")}
    assert {f"code_pool_{field.name}" for field in dataclasses.fields(pool)} == named
