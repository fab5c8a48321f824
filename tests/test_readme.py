"""The Chinese README (README.zh-CN.md) kept in step with README.md.

A translation drifts silently: a section, a setting or a figure is added to the English one and
never reaches the Chinese. These checks compare what must stay identical in both (code, inline
code, settings, commands, figures, images, links, the shape of sections, tables and lists) without
judging the prose, so a change to the English README fails here until the Chinese one follows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EN_PATH = ROOT / "README.md"
ZH_PATH = ROOT / "README.zh-CN.md"

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
# Inline code, which may wrap onto the next line of a paragraph.
SPAN = re.compile(r"`([^`\n]+(?:\n[^`\n]+)?)`")
# A comment in a code block (shell, Python, YAML, JavaScript): the only part translated.
COMMENT = re.compile(r"(?:^|\s)(?:#|//)(?:\s.*)?$")
# A figure in prose: not part of a word like ES256 or p99, so "30–32×" gives 30 and 32.
FIGURE = re.compile(r"(?<![A-Za-z0-9.,])\d(?:[\d,.]*\d)?(?![A-Za-z0-9])")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
COMMAND = re.compile(r"\bminilogin((?: [a-z][a-z-]*)+| --[a-z][a-z-]*)|\bmake [a-z][a-z-]*")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def en() -> str:
    return read(EN_PATH)


@pytest.fixture(scope="module")
def zh() -> str:
    return read(ZH_PATH)


def code_blocks(text: str) -> list[str]:
    """Each fenced block without its comments, blank lines and trailing spaces."""
    blocks = []
    for body in FENCE.findall(text):
        lines = (COMMENT.sub("", line).rstrip() for line in body.splitlines())
        blocks.append("\n".join(line for line in lines if line))
    return blocks


def prose(text: str) -> str:
    return FENCE.sub("", text)


def spans(text: str) -> set[str]:
    return {" ".join(span.split()) for span in SPAN.findall(prose(text))}


def code(text: str) -> str:
    """The code of a README, comments left out (they are prose)."""
    return "\n".join([*code_blocks(text), *spans(text)])


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_each_links_the_other_at_the_top(en: str, zh: str) -> None:
    assert "[README.zh-CN.md](README.zh-CN.md)" in "\n".join(en.splitlines()[:5])
    assert "[README.md](README.md)" in "\n".join(zh.splitlines()[:5])


def test_the_code_blocks_are_the_same_but_for_comments(en: str, zh: str) -> None:
    assert code_blocks(en), "no code block found: the fence pattern no longer matches"
    assert code_blocks(zh) == code_blocks(en)


def test_every_inline_code_of_the_english_is_in_the_chinese(en: str, zh: str) -> None:
    assert "MINILOGIN_PUBLIC_URL" in spans(en)
    assert sorted(spans(en) - spans(zh)) == []


def test_every_setting_and_command_named_in_english_is_named_in_chinese(en: str, zh: str) -> None:
    settings = set(re.findall(r"MINILOGIN_[A-Z0-9_]+", en))
    commands = {match.group(0) for match in COMMAND.finditer(code(en))}
    assert {"make dev", "make test", "minilogin dev", "minilogin serve"} <= commands
    assert sorted(name for name in settings | commands if name not in zh) == []


def test_every_figure_of_the_english_prose_is_in_the_chinese(en: str, zh: str) -> None:
    figures = set(FIGURE.findall(prose(en)))
    assert {"27.0", "5,000", "818.3"} <= figures
    assert sorted(figures - set(FIGURE.findall(prose(zh)))) == []


def test_every_table_row_has_the_same_figures_in_the_same_order(en: str, zh: str) -> None:
    """The performance and settings tables above all: a figure is copied, never changed."""

    def rows(text: str) -> list[list[str]]:
        return [FIGURE.findall(line) for line in prose(text).splitlines() if line.startswith("|")]

    assert ["500", "45.8", "39.1", "454"] in rows(en)
    assert rows(zh) == rows(en)


def sections(text: str) -> list[str]:
    """The text under each heading, code blocks counted as one paragraph each."""
    return re.split(r"^#{1,6} .*$", FENCE.sub("CODE", text), flags=re.MULTILINE)[1:]


def paragraphs(section: str) -> int:
    return sum(1 for block in re.split(r"\n\s*\n", section) if block.strip())


def test_the_same_sections_tables_and_lists(en: str, zh: str) -> None:
    def levels(text: str) -> list[int]:
        return [len(hashes) for hashes, _ in HEADING.findall(prose(text))]

    def lines(text: str, start: str) -> int:
        return sum(line.startswith(start) for line in prose(text).splitlines())

    assert levels(zh) == levels(en)
    assert lines(zh, "|") == lines(en, "|")
    assert lines(zh, "- ") == lines(en, "- ")
    # The Chinese may explain more (the diagram of a login), never less.
    fewer = [
        index
        for index, (ours, theirs) in enumerate(zip(sections(zh), sections(en), strict=True))
        if paragraphs(ours) < paragraphs(theirs)
    ]
    assert fewer == []


def test_the_same_screenshots_in_the_same_order(en: str, zh: str) -> None:
    assert IMAGE.findall(en)
    assert IMAGE.findall(zh) == IMAGE.findall(en)


@pytest.mark.parametrize("path", [EN_PATH, ZH_PATH], ids=["en", "zh-CN"])
def test_every_local_link_and_anchor_resolves(path: Path) -> None:
    text = read(path)
    anchors = {anchor(title) for _, title in HEADING.findall(prose(text))}
    broken = []
    for target in LINK.findall(prose(text)):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, fragment = target.partition("#")
        resolves = (path.parent / file).exists() if file else fragment in anchors
        if not resolves:
            broken.append(target)
    assert broken == []
