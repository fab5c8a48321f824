"""Approximate places from the offline ip2region database, and "another region"."""

from __future__ import annotations

import pytest

from minilogin.places import LOCAL, PRIVATE, Place, place_of, regions_differ


@pytest.mark.parametrize(
    ("ip", "place"),
    [
        ("202.96.128.86", Place("广东省 广州市", ("中国", "广东省"))),
        ("114.114.114.114", Place("江苏省 南京市", ("中国", "江苏省"))),
        ("220.181.38.148", Place("北京 北京市", ("中国", "北京"))),
        ("8.8.8.8", Place("美国", ("美国", None))),
        ("127.0.0.1", Place(LOCAL, None)),
        ("::1", Place(LOCAL, None)),
        ("192.168.1.20", Place(PRIVATE, None)),
        ("10.0.0.8", Place(PRIVATE, None)),
        ("2400:3200::1", Place("", None)),  # the database knows IPv4 only
        ("not an address", Place("", None)),
    ],
)
def test_places(ip: str, place: Place) -> None:
    assert place_of(ip) == place


@pytest.mark.parametrize(
    ("first", "second", "differ"),
    [
        ("202.96.128.86", "183.3.226.35", False),  # Guangzhou and Shenzhen: one province
        ("202.96.128.86", "220.181.38.148", True),  # Guangdong and Beijing
        ("202.96.128.86", "8.8.8.8", True),  # another country
        ("8.8.8.8", "1.2.3.4", False),  # one country, a province unknown
        ("202.96.128.86", "127.0.0.1", False),  # unknown is never "another region"
        ("192.168.1.2", "220.181.38.148", False),
    ],
)
def test_regions_differ(first: str, second: str, differ: bool) -> None:
    assert regions_differ(first, second) is differ
