"""What routes read from a request: the browser's name as the phone shows it."""

from __future__ import annotations

import pytest

from minilogin.web.deps import browser_name

WINDOWS_CHROME_86 = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/86.0.4240.198 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (f"{WINDOWS_CHROME_86} QIHU 360SE", "360 Browser · Windows"),
        (f"{WINDOWS_CHROME_86} QIHU 360EE", "360 Browser · Windows"),
        (
            f"{WINDOWS_CHROME_86} Core/1.94.197.400 QQBrowser/11.7.5287.400",
            "QQ Browser · Windows",
        ),
        (f"{WINDOWS_CHROME_86} SE 2.X MetaSr 1.0", "Sogou Explorer · Windows"),
        (f"{WINDOWS_CHROME_86} Edg/130.0.0.0", "Edge · Windows"),
        (WINDOWS_CHROME_86, "Chrome · Windows"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Safari/605.1.15",
            "Safari · macOS",
        ),
        ("curl/8.5.0", "curl"),
        ("", ""),
    ],
)
def test_browsers_are_named_as_people_know_them(user_agent: str, name: str) -> None:
    assert browser_name(user_agent) == name
