"""Logos: accepted only as sane PNG, JPEG or WebP images, and composed into the centre of a
code that still scans."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter

from minilogin.core.errors import InvalidRequest
from minilogin.images import compose_code, image_type, normalise_logo
from minilogin.sandbox.emulator import WeChatEmulator

URL = "http://sandbox.test/_sandbox/phone?appid=wx_images&scene=AbCdEfGh12345678"


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def logo(size: tuple[int, int] = (300, 300), mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size, (200, 30, 40) if mode == "RGB" else (200, 30, 40, 255))
    image.paste(
        (20, 90, 200) if mode == "RGB" else (20, 90, 200, 255), (0, 0, size[0] // 2, size[1])
    )
    return image


def sandbox_code(width: int = 430) -> bytes:
    return WeChatEmulator("http://sandbox.test").code_image("wx_images", "AbCdEfGh12345678", width)


def decode(png: bytes) -> list[str]:
    return [
        code.text
        for code in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` but whose data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


# Composition --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [280, 430, 1280])
def test_a_code_with_a_logo_still_scans(width: int) -> None:
    composed = compose_code(sandbox_code(width), normalise_logo(encoded(logo(), "PNG")))

    assert decode(composed) == [URL]


def test_a_badge_drawn_once_is_kept_per_logo_and_per_width() -> None:
    red = normalise_logo(encoded(Image.new("RGB", (300, 300), (200, 30, 40)), "PNG"))
    green = normalise_logo(encoded(Image.new("RGB", (300, 300), (20, 180, 20)), "PNG"))

    for width in (280, 430, 280, 430):
        code = sandbox_code(width)
        with_red, with_green = compose_code(code, red), compose_code(code, green)
        centre = (width // 2, width // 2)
        assert Image.open(io.BytesIO(with_red)).size == (width, width)
        red_pixel = Image.open(io.BytesIO(with_red)).convert("RGB").getpixel(centre)
        green_pixel = Image.open(io.BytesIO(with_green)).convert("RGB").getpixel(centre)
        assert red_pixel[0] > 150 > red_pixel[1], red_pixel
        composed = Image.open(io.BytesIO(with_red)).convert("RGB")
        row = [composed.getpixel((x, width // 2)) for x in range(width)]
        reds = sum(1 for r, g, _ in row if r > 150 > g)
        # The logo's face: the badge's diameter (22 % of the width) less its white ring.
        assert 0.15 * width < reds < 0.22 * width, (width, reds)
        assert green_pixel[1] > 150 > green_pixel[0], green_pixel
        assert decode(with_red) == decode(with_green) == [URL]


def test_the_badge_sits_in_the_centre_and_stays_small() -> None:
    plain = Image.open(io.BytesIO(compose_code(sandbox_code(), None))).convert("RGB")
    badged = Image.open(io.BytesIO(compose_code(sandbox_code(), encoded(logo(), "PNG")))).convert(
        "RGB"
    )

    # JPEG's 8×8 blocks blur the badge's edge a little: only a clear difference counts.
    changed = ImageChops.difference(plain, badged).convert("L").point(lambda v: 255 * (v > 64))
    left, top, right, bottom = changed.getbbox() or (0, 0, 0, 0)

    assert right - left <= 0.22 * plain.width + 1
    assert bottom - top <= 0.22 * plain.height + 1
    assert abs((left + right) / 2 - plain.width / 2) <= 1
    assert abs((top + bottom) / 2 - plain.height / 2) <= 1
    centre = badged.getpixel((plain.width // 2 + 10, plain.height // 2))
    assert centre == pytest.approx((200, 30, 40), abs=12)
    ring = badged.getpixel((left + 2, (top + bottom) // 2))
    assert ring == pytest.approx((255, 255, 255), abs=12)


def test_a_transparent_logo_sits_on_white() -> None:
    clear = Image.new("RGBA", (200, 200), (0, 0, 0, 0))

    composed = Image.open(io.BytesIO(compose_code(sandbox_code(), encoded(clear, "PNG"))))

    assert composed.convert("RGB").getpixel((215, 215)) == (255, 255, 255)


def test_a_code_can_be_resized_and_a_jpeg_code_is_accepted() -> None:
    jpeg = encoded(Image.open(io.BytesIO(sandbox_code())).convert("RGB"), "JPEG", quality=90)

    composed = compose_code(jpeg, normalise_logo(encoded(logo(), "JPEG")), size=600)

    image = Image.open(io.BytesIO(composed))
    assert image.format == "JPEG"
    assert image_type(composed) == "image/jpeg"
    assert image.size == (600, 600)
    assert decode(composed) == [URL]


def test_a_code_keeps_its_format_and_each_format_stays_compact() -> None:
    # A hard-edged black-and-white code as a PNG (the sandbox's, before it sent JPEG).
    pixels = Image.open(io.BytesIO(sandbox_code())).convert("L").point(lambda v: 255 * (v > 128))
    hard = encoded(pixels.convert("RGB"), "PNG", optimize=True)
    # A code drawn with soft edges and sent as JPEG, as WeChat's round codes are.
    soft = pixels.convert("RGB").filter(ImageFilter.GaussianBlur(1.2))
    jpeg = encoded(soft, "JPEG", quality=85)
    badge = normalise_logo(encoded(logo(), "PNG"))

    from_png, from_jpeg = compose_code(hard, badge), compose_code(jpeg, badge)

    assert image_type(from_png) == "image/png"
    assert image_type(from_jpeg) == "image/jpeg"
    assert decode(from_png) == decode(from_jpeg) == [URL]
    # Each is smaller than the other format would be for the same pixels.
    for composed, other in ((from_png, "JPEG"), (from_jpeg, "PNG")):
        pixels = Image.open(io.BytesIO(composed)).convert("RGB")
        assert len(composed) < len(encoded(pixels, other, quality=85, optimize=True))


def test_the_type_of_a_code_image_is_read_from_its_bytes() -> None:
    assert image_type(encoded(logo(), "PNG")) == "image/png"
    assert image_type(encoded(logo(), "JPEG")) == "image/jpeg"
    with pytest.raises(InvalidRequest):
        image_type(b'{"errcode":-1}')


def test_a_code_that_is_not_an_image_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        compose_code(b'{"errcode":-1,"errmsg":"system error"}', None)


# Normalising uploads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode"), [("PNG", "RGB"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("WEBP", "RGB")]
)
def test_png_jpeg_and_webp_become_rgba_png(fmt: str, mode: str) -> None:
    normalised = normalise_logo(encoded(logo(mode=mode), fmt))

    image = Image.open(io.BytesIO(normalised))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (300, 300))


def test_a_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)

    normalised = Image.open(io.BytesIO(normalise_logo(encoded(image, "PNG", transparency=0))))

    assert normalised.getpixel((0, 0))[3] == 0


def test_a_large_logo_is_scaled_down_to_512() -> None:
    normalised = normalise_logo(encoded(logo((2000, 1000)), "PNG"))

    assert Image.open(io.BytesIO(normalised)).size == (512, 256)


def test_the_jpeg_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the stored landscape image is shown upright
    data = encoded(logo((400, 200)), "JPEG", exif=exif.tobytes())

    assert Image.open(io.BytesIO(normalise_logo(data))).size == (200, 400)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"just some text",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        encoded(logo(), "GIF"),
        encoded(logo(), "BMP"),
        encoded(logo(), "PNG")[:200],  # truncated
        encoded(logo(), "JPEG")[:300],
        png_header_only(100_000, 100_000),  # a decompression bomb
        png_header_only(4097, 16),
        png_header_only(0, 16),
    ],
)
def test_what_is_not_a_sane_image_is_refused(data: bytes) -> None:
    before = Image.MAX_IMAGE_PIXELS

    with pytest.raises(InvalidRequest) as caught:
        normalise_logo(data)

    assert caught.value.code == "invalid_logo"
    assert caught.value.detail
    assert before == Image.MAX_IMAGE_PIXELS


def test_a_bomb_is_refused_before_its_pixels_are_decoded() -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalise_logo(png_header_only(4096, 4097))

    assert "4096×4097" in (caught.value.detail or "")


def test_a_logo_over_the_size_limit_is_refused() -> None:
    data = encoded(logo(), "PNG")

    with pytest.raises(InvalidRequest) as caught:
        normalise_logo(data, max_bytes=len(data) - 1)

    assert "larger than" in (caught.value.detail or "")
