"""The ephemeral keyspace (``storage/ephemeral/keys.py``): no two kinds of record can share a
key, whatever identifiers (without ``:``) fill them."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable

from minilogin.codepool import keys as codepool_keys
from minilogin.storage.ephemeral import keys

# Stands for any argument: random identifiers, digests and numbers hold no ":".
ANY = "\x00"


def builders() -> dict[str, Callable[..., str]]:
    return {
        name: member
        for name, member in vars(keys).items()
        if inspect.isfunction(member) and member.__module__ == keys.__name__
    }


def shape(name: str) -> list[str]:
    """The key's segments, ``ANY`` where an argument goes."""
    if name in builders():
        builder = builders()[name]
        return builder(*(ANY for _ in inspect.signature(builder).parameters)).split(":")
    return str(getattr(keys, name)).split(":")


def may_coincide(first: list[str], second: list[str]) -> bool:
    return len(first) == len(second) and all(
        ANY in (a, b) or a == b for a, b in zip(first, second, strict=True)
    )


def constants() -> list[str]:
    return [name for name, value in vars(keys).items() if name.isupper() and isinstance(value, str)]


def test_no_two_kinds_of_key_can_name_the_same_key() -> None:
    names = [*builders(), *constants()]
    assert len(names) > 10
    for first, second in itertools.combinations(names, 2):
        assert not may_coincide(shape(first), shape(second)), (first, second)


def test_the_code_pools_keys_have_a_namespace_of_their_own() -> None:
    """``codepool/keys.py`` names the keys under ``codepool:``; nothing here starts so."""
    assert codepool_keys.IMAGES_SWEPT.startswith("codepool:")
    assert codepool_keys.fresh(ANY).startswith("codepool:")
    for name in [*builders(), *constants()]:
        assert shape(name)[0] != "codepool", name


def test_a_shape_check_would_catch_a_clash() -> None:
    assert may_coincide(["qrlogin", ANY], ["qrlogin", "scene"])
    assert not may_coincide(["qrlogin", ANY], ["qrlogin", "scene", ANY])


def test_each_argument_lands_in_the_key() -> None:
    for name, builder in builders().items():
        parameters = list(inspect.signature(builder).parameters)
        arguments = [f"arg{n}" for n in range(len(parameters))]
        key = builder(*arguments)
        for argument in arguments:
            assert argument in key.split(":"), name
