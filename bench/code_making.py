"""Code making: the CPU of composing one code (WeChat's JPEG in, the logo's badge in, JPEG out).

What the server does to each code the pool makes for an identity source with a logo, besides
the WeChat call and the store's write: ``images.compose_code`` on WeChat's JPEG (here the
sandbox's, drawn as WeChat draws its codes: 430 px, soft-edged, colour JPEG) and the source's
logo, as an upload leaves it (``normalise_logo``). Timed in this process with the thread's
CPU clock, ``--codes`` times each, beside two baselines of the same run:

- **codec floor**: the same JPEG decoded and encoded again, nothing drawn: what any
  composition costs at least with Pillow's codec (libjpeg-turbo);
- **badge drawn for every code**: the cache of drawn badges emptied before each code, as every
  code was composed before the cache.

The server composes off the event loop (``asyncio.to_thread`` in ``login/codepool.py``); this
measures the work, not where it runs.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

from common import Summary, machine, parse, parser, say_if_quick, table
from PIL import Image, ImageDraw

from minilogin.images import CODE_QUALITY, _badge_for, compose_code, normalise_logo
from minilogin.sandbox.emulator import WeChatEmulator

QUICK = {"codes": 20}
GOAL_MS = 2.0
SCENE = "0123456789abcdef0123456789abcdef"


def logo() -> bytes:
    """A logo as an administrator might upload one: a 600 px photo-like PNG, normalised."""
    picture = Image.linear_gradient("L").resize((600, 600)).convert("RGB")
    ImageDraw.Draw(picture).ellipse((100, 100, 500, 500), fill=(200, 40, 40))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return normalise_logo(out.getvalue())


def codec_floor(code: bytes) -> bytes:
    image = Image.open(io.BytesIO(code))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=CODE_QUALITY)
    return out.getvalue()


def timed(work: Callable[[], object], count: int) -> list[float]:
    """The thread CPU time of each of ``count`` calls, in milliseconds."""
    work()  # imports and first-call work, not the steady cost
    times = []
    for _ in range(count):
        started = time.thread_time()
        work()
        times.append((time.thread_time() - started) * 1000)
    return times


def arguments() -> argparse.Namespace:
    p = parser(__doc__)
    p.add_argument("--codes", type=int, default=500, help="codes composed per kind")
    p.add_argument("--width", type=int, default=430, help="the code's width in pixels")
    return parse(p, QUICK)


def uncached(code: bytes, badge_logo: bytes) -> Callable[[], object]:
    def compose() -> bytes:
        _badge_for.cache_clear()
        return compose_code(code, badge_logo)

    return compose


def main() -> None:
    args = arguments()
    print(f"code_making: {(__doc__ or '').splitlines()[0]}")
    print(f"machine:  {machine()}")
    print(f"settings: {args.codes} codes per kind, width {args.width}, JPEG quality {CODE_QUALITY}")
    say_if_quick(args)
    print(flush=True)
    code = WeChatEmulator("http://127.0.0.1:8000").code_image(
        "wx0000000000sandbox", SCENE, args.width
    )
    badge_logo = logo()
    kinds = [
        ("composed (badge kept)", lambda: compose_code(code, badge_logo)),
        ("codec floor (baseline)", lambda: codec_floor(code)),
        ("badge drawn for every code", uncached(code, badge_logo)),
    ]
    rows = []
    figures = {}
    for label, work in kinds:
        figures[label] = summary = Summary.of(timed(work, args.codes))
        rows.append(
            [
                label,
                str(summary.n),
                f"{summary.p50:.2f}",
                f"{summary.p90:.2f}",
                f"{summary.p99:.2f}",
                f"{summary.max:.2f}",
            ]
        )
    print(f"code in: {len(code):,} bytes of JPEG; logo: {len(badge_logo):,} bytes of PNG")
    print(f"code out: {len(compose_code(code, badge_logo)):,} bytes of JPEG")
    print("CPU a code (this thread's CPU clock), ms")
    print(table(["kind", "n", "p50", "p90", "p99", "max"], rows))
    now = figures["composed (badge kept)"].p50
    floor = figures["codec floor (baseline)"].p50
    print(f"composed vs codec floor, p50: {now / floor:.2f}×")
    verdict = "met" if now <= GOAL_MS else f"MISSED by {now - GOAL_MS:.2f} ms"
    print(f"goal (issue 17): ≤ {GOAL_MS:g} ms a code, p50: {now:.2f} ms → {verdict}")


if __name__ == "__main__":
    main()
