"""Cover art: the drawn cover and given covers, checked by decoding the JPEG with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from audiobook.cover import MAX_SIZE_PX, draw_cover, load_cover
from audiobook.errors import CoverError


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    image.load()
    return image


@pytest.mark.parametrize("size_px", [1400, 3000])
def test_drawn_cover_is_a_square_rgb_jpeg_of_the_asked_size(size_px: int) -> None:
    cover = draw_cover("Vocaloid Stories", "Various fan authors", size_px)

    image = decoded(cover.jpeg)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (size_px, size_px))
    assert cover.size_px == size_px


def test_drawn_cover_has_text_and_is_stable() -> None:
    cover = draw_cover("Vocaloid Stories", "Various fan authors")

    image = decoded(cover.jpeg).convert("L")
    background = image.getpixel((image.width // 2, 5))
    middle = image.crop((200, 500, 1200, 900))
    assert middle.getextrema()[1] - background > 150  # light letters on a dark ground
    assert draw_cover("Vocaloid Stories", "Various fan authors").jpeg == cover.jpeg


def test_long_titles_emoji_and_markup_characters_still_draw() -> None:
    cover = draw_cover("A <Very> Long & \"Quoted\" Title 🎤 " * 6, "初音 & Co. 🎶")

    assert decoded(cover.jpeg).size == (1400, 1400)


def test_cover_size_outside_range_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        draw_cover("T", "A", 1000)


def save(image: Image.Image, path: Path, kind: str) -> Path:
    image.save(path, kind)
    return path


def test_given_png_with_alpha_becomes_a_jpeg_of_the_same_size(tmp_path: Path) -> None:
    path = save(Image.new("RGBA", (1500, 1500), (10, 200, 10, 128)), tmp_path / "c.png", "PNG")

    cover = load_cover(path)

    image = decoded(cover.jpeg)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (1500, 1500))


def test_given_slightly_oblong_cover_is_centre_cropped_and_big_one_scaled(tmp_path: Path) -> None:
    path = save(Image.new("RGB", (3200, 3100), "blue"), tmp_path / "c.jpg", "JPEG")

    assert decoded(load_cover(path).jpeg).size == (MAX_SIZE_PX, MAX_SIZE_PX)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: save(Image.new("RGB", (1400, 1000)), p, "PNG"), "1400x1000 px, not square; crop it to a square"),
        (
            lambda p: save(Image.new("RGB", (600, 600)), p, "PNG"),
            "600x600 px, smaller than 1400x1400; use a larger image",
        ),
        (lambda p: save(Image.new("RGB", (1400, 1400)), p, "GIF"), "cover is GIF, not JPEG or PNG; convert it to JPEG"),
        (lambda p: p.write_text("not an image") and p, "not a readable image"),
        (lambda p: p, "no such cover image; check the path"),
    ],
)
def test_unsuitable_covers_are_one_line_errors_naming_the_file(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "cover.img")

    with pytest.raises(CoverError) as error:
        load_cover(path)

    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)
