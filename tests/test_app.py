"""The application's process-wide start-up: what it made is frozen out of the collector's
work, and the collector runs at the thresholds chosen for many waiting browsers. Checked in a
fresh interpreter, as a server starts: this test process has frozen its objects already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from minilogin.app import GC_THRESHOLDS

STARTED = """
import asyncio, gc, sys
from pathlib import Path
from minilogin.app import create_app
from minilogin.config import Settings
from minilogin.storage.sql.migrate import upgrade_async

async def main() -> None:
    settings = Settings(public_url="http://minilogin.test", data_dir=Path(sys.argv[1]))
    await upgrade_async(settings.database_url)
    print(gc.get_threshold(), gc.get_freeze_count() > 0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        print(gc.get_threshold(), gc.get_freeze_count() > 0)

asyncio.run(main())
"""


def test_start_up_freezes_what_it_made_and_sets_the_collectors_thresholds(tmp_path: Path) -> None:
    started = subprocess.run(
        [sys.executable, "-c", STARTED, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    before, after = started.stdout.splitlines()
    assert before == "(700, 10, 10) False"
    assert after == f"{GC_THRESHOLDS} True"
