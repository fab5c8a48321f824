"""The SDK says each reason the phone may give for ending a login in its own words, in both
of its languages, rather than falling back to a generic "cancelled"."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from minilogin.web.miniprogram_api import CancelBody

SDK = Path(__file__).parents[2] / "src" / "minilogin" / "static" / "minilogin.js"


def reason_keys(source: str) -> list[set[str]]:
    """The keys of each language's ``reasons: { … }`` table in the SDK's source."""
    tables = re.findall(r"reasons: \{(.*?)\n    \}", source, flags=re.DOTALL)
    return [set(re.findall(r"^\s+(\w+):", table, flags=re.MULTILINE)) for table in tables]


def test_every_reason_the_phone_may_give_has_its_text_in_both_languages() -> None:
    reasons = set(typing.get_args(CancelBody.model_fields["reason"].annotation))
    tables = reason_keys(SDK.read_text())
    assert len(tables) == 2  # zh-CN and en
    for keys in tables:
        assert reasons <= keys, reasons - keys
