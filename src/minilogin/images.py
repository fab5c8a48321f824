"""Images: an identity source's logo, checked and normalised on upload, and composed as a
round badge into the centre of a mini program code.

A composed code keeps the format of the code it was composed from, because each suits its own
kind of picture: WeChat's codes are JPEG (getUnlimitedQRCode answers ``image/jpeg``), soft-edged
and coloured, tens of KB at width 430 where a PNG of the same pixels is several times larger;
a hard-edged black-and-white QR code (the sandbox's PNG) is a few KB as a PNG and ten times
that as a JPEG.

Logos come from administrators' uploads, so they are treated as hostile: only PNG, JPEG and
WebP, no more than 2 MiB, and dimensions are checked from the header before any pixel is
decoded (a small file can claim a gigantic canvas). Pillow's own decompression-bomb limit is
left as it is for the rest of the process; here a bomb is simply refused.

Making a code is on every login's account (each code is used once), so composing one costs
little: the badge, the same for every code of an identity source, is drawn once per logo and
width and kept (``_badge_for``), and a code is decoded straight to RGB, the badge pasted
through its own alpha, and encoded again: two codec passes and a paste, about 2 ms for a
430 px JPEG (``bench/code_making.py``).

The badge covers at most about a fifth of the code's width: a QR code with error correction
level H (the sandbox's) loses far less than the 30 % it can restore, and WeChat's round codes
keep their centre free for exactly such a badge.
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from minilogin.core.errors import InvalidRequest

LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
CODE_FORMATS = ("PNG", "JPEG")
MAX_LOGO_SIDE = 4096
LOGO_SIZE = 512
MAX_CODE_SIDE = 4096
#: The badge's diameter as a share of the code's width.
BADGE_SHARE = 0.22
#: The white ring's width as a share of the badge's diameter.
RING_SHARE = 0.08
_SUPERSAMPLE = 4
#: A composed JPEG code's quality: its modules still scan from a screen photo at 280 px.
CODE_QUALITY = 85
#: Badges kept ready: a few identity sources' logos, each at the widths its codes come in.
BADGES_KEPT = 64
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def normalise_logo(data: bytes, max_bytes: int = 2 * 1024 * 1024) -> bytes:
    """The logo as a PNG of at most 512×512 RGBA pixels, or ``InvalidRequest("invalid_logo")``
    when it is not a PNG, JPEG or WebP image within the limits."""
    if not data:
        raise InvalidRequest("invalid_logo", "the logo is empty")
    if len(data) > max_bytes:
        raise InvalidRequest("invalid_logo", f"the logo is larger than {max_bytes} bytes")
    image = _decode(data, LOGO_FORMATS, MAX_LOGO_SIDE, "invalid_logo", "logo")
    image = ImageOps.exif_transpose(image).convert("RGBA")
    image.thumbnail((LOGO_SIZE, LOGO_SIZE), Image.Resampling.LANCZOS)
    return _png(image)


def image_type(data: bytes) -> str:
    """The media type of a code image, from its first bytes (WeChat's are PNG or JPEG)."""
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    raise InvalidRequest("invalid_code_image", "the code image is not a PNG or JPEG image")


def compose_code(code_image: bytes, logo: bytes | None, size: int | None = None) -> bytes:
    """The code (PNG or JPEG) in its own format, ``size`` pixels wide when given, with
    ``logo`` in a round white-ringed badge at its centre. A transparent code is laid on
    white."""
    jpeg = image_type(code_image) == "image/jpeg"
    code = _decode(code_image, CODE_FORMATS, MAX_CODE_SIDE, "invalid_code_image", "code image")
    if code.mode == "L":
        code = code.convert("RGB")
    elif code.mode != "RGB":
        # Transparency (or a palette) is laid on white before anything is drawn on it.
        code = code.convert("RGBA")
        flat = Image.new("RGB", code.size, (255, 255, 255))
        flat.paste(code, (0, 0), code)
        code = flat
    if size is not None and size != code.width:
        height = max(1, round(code.height * size / code.width))
        code = code.resize((size, height), Image.Resampling.LANCZOS)
    if logo is not None:
        face, alpha = _badge_for(logo, max(8, int(min(code.size) * BADGE_SHARE)))
        position = ((code.width - face.width) // 2, (code.height - face.height) // 2)
        code.paste(face, position, alpha)
    if not jpeg:
        return _png(code)
    out = io.BytesIO()
    # Huffman tables not optimised: measured on a 430 px code, 7.7 % more bytes (44,436 against
    # 41,269) for a fifth less CPU (1.8 ms against 2.3 ms a code).
    code.save(out, format="JPEG", quality=CODE_QUALITY)
    return out.getvalue()


@lru_cache(maxsize=BADGES_KEPT)
def _badge_for(logo: bytes, diameter: int) -> tuple[Image.Image, Image.Image]:
    """The badge of ``logo`` at ``diameter``, as its RGB pixels and their alpha: drawn once,
    pasted into every code after (``paste`` only reads them, so sharing them across the
    threads that compose is safe)."""
    badge = _badge(_decode(logo, LOGO_FORMATS, MAX_LOGO_SIDE, "invalid_logo", "logo"), diameter)
    return badge.convert("RGB"), badge.getchannel("A")


def _decode(
    data: bytes, formats: tuple[str, ...], max_side: int, code: str, what: str
) -> Image.Image:
    """Opens the header, checks format and dimensions, and only then decodes the pixels."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit; a bomb is an error here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)
            width, height = image.size
            if not (0 < width <= max_side and 0 < height <= max_side):
                raise InvalidRequest(
                    code,
                    f"the {what} is {width}×{height}; at most {max_side}×{max_side} is allowed",
                )
            image.load()
    except InvalidRequest:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidRequest(code, f"the {what} has too many pixels") from None
    except UnidentifiedImageError:
        raise InvalidRequest(code, f"the {what} is not a {', '.join(formats)} image") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidRequest(code, f"the {what} is damaged or truncated") from None
    return image


def _badge(logo: Image.Image, diameter: int) -> Image.Image:
    """The logo cropped to a circle inside a white ring, drawn large and scaled down so the
    edges are smooth."""
    big = diameter * _SUPERSAMPLE
    ring = max(2 * _SUPERSAMPLE, int(big * RING_SHARE))
    inner = big - 2 * ring
    face = ImageOps.fit(
        ImageOps.exif_transpose(logo).convert("RGBA"), (inner, inner), Image.Resampling.LANCZOS
    )
    # A transparent logo sits on white, not on the code's modules.
    backed = Image.new("RGBA", face.size, (255, 255, 255, 255))
    backed.alpha_composite(face)
    badge = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    ImageDraw.Draw(badge).ellipse((0, 0, big - 1, big - 1), fill=(255, 255, 255, 255))
    mask = Image.new("L", (inner, inner), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, inner - 1, inner - 1), fill=255)
    badge.paste(backed, (ring, ring), mask)
    return badge.resize((diameter, diameter), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
