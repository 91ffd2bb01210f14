"""Cover art: draw a clean square cover from the title and author, or check and convert a given one.

Covers are JPEG, square, 1400-3000 px a side: what podcast directories ask for. The drawn
cover uses DejaVu (Debian's fonts-dejavu-core, installed by setup.sh) because it covers most
scripts; without it, Pillow's own built-in font (Latin only).
"""

from __future__ import annotations

import hashlib
import io
import textwrap
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from .errors import CoverError

__all__ = ["MAX_SIZE_PX", "MIN_SIZE_PX", "Cover", "draw_cover", "load_cover"]

MIN_SIZE_PX = 1400
MAX_SIZE_PX = 3000
MAX_ASPECT = 1.05  # "square-ish": the longer side at most 5% longer; it is centre-cropped
JPEG_QUALITY = 90
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

# Dark backgrounds, one picked by a hash of the title: the same book always gets the same cover.
_BACKGROUNDS = ((31, 42, 68), (58, 32, 64), (24, 64, 60), (70, 38, 30), (36, 36, 40), (20, 52, 84))
_INK = (245, 240, 228)
_ACCENT = (214, 170, 92)


@dataclass(frozen=True)
class Cover:
    jpeg: bytes
    size_px: int  # width and height


def _font(bold: bool, size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSerif-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size_px)
    return ImageFont.load_default(size_px)


def _fit(
    draw: ImageDraw.ImageDraw, text: str, bold: bool, box_w: int, box_h: int, start_px: int
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str], int]:
    """The largest font (from ``start_px`` down) at which ``text`` wraps into the box: (font, lines, size in px)."""
    size = start_px
    while True:
        font = _font(bold, size)
        average = max(1.0, draw.textlength("abcdefghijklmnopqrstuvwxyz", font=font) / 26)
        width_chars = max(1, int(box_w / average))
        lines = textwrap.wrap(text, width_chars, break_long_words=True) or [""]
        widest = max(draw.textlength(line, font=font) for line in lines)
        height = len(lines) * size * 1.2
        if (widest <= box_w and height <= box_h) or size <= 12:
            return font, lines, size
        size = int(size * 0.9)


def draw_cover(title: str, author: str, size_px: int = MIN_SIZE_PX) -> Cover:
    """A square JPEG cover with the title, a rule and the author, centred."""
    if not MIN_SIZE_PX <= size_px <= MAX_SIZE_PX:
        raise ValueError(f"cover size must be {MIN_SIZE_PX}-{MAX_SIZE_PX} px, got {size_px}")
    title = _drawable(title) or "Untitled"
    author = _drawable(author)
    background = _BACKGROUNDS[hashlib.sha256(title.encode()).digest()[0] % len(_BACKGROUNDS)]
    image = Image.new("RGB", (size_px, size_px), background)
    draw = ImageDraw.Draw(image)
    margin = size_px // 10
    border = max(2, size_px // 200)
    draw.rectangle(
        (margin // 2, margin // 2, size_px - margin // 2, size_px - margin // 2), outline=_ACCENT, width=border
    )

    box_w = size_px - 2 * margin
    title_font, title_lines, title_px = _fit(draw, title, True, box_w, int(size_px * 0.45), size_px // 9)
    author_font, author_lines, author_px = _fit(draw, author, False, box_w, int(size_px * 0.15), size_px // 22)
    title_step = int(title_px * 1.2)
    author_step = int(author_px * 1.3)
    gap = size_px // 14
    total = len(title_lines) * title_step + gap + (len(author_lines) * author_step if author else 0)
    y = (size_px - total) // 2
    for line in title_lines:
        draw.text((size_px // 2, y), line, font=title_font, fill=_INK, anchor="ma")
        y += title_step
    rule_y = y + gap // 2
    draw.line((size_px // 2 - size_px // 8, rule_y, size_px // 2 + size_px // 8, rule_y), fill=_ACCENT, width=border)
    y += gap
    for line in author_lines if author else []:
        draw.text((size_px // 2, y), line, font=author_font, fill=_INK, anchor="ma")
        y += author_step
    return Cover(_jpeg(image), size_px)


def _drawable(text: str) -> str:
    """Text without emoji and other pictographs, which the cover fonts have no glyphs for."""
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co", "Cn"))
    return " ".join(kept.split())


def load_cover(path: Path) -> Cover:
    """A given cover (JPEG or PNG, square-ish, at least 1400 px a side) as a square JPEG.

    Larger images are scaled down to 3000 px; a slightly oblong one is centre-cropped.
    """
    path = Path(path)
    if not path.is_file():
        raise CoverError(f"{path}: no such cover image; check the path")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CoverError(f"{path}: cannot read the cover: {exc.strerror}") from None
    return cover_from_bytes(data, str(path))


def cover_from_bytes(data: bytes, where: str) -> Cover:
    """An image file's bytes as a cover (see :func:`load_cover`); `where` names it in errors."""
    path = where
    try:
        with warnings.catch_warnings():
            # past Pillow's pixel limit it warns, past twice the limit it raises: both are refused here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CoverError(
            f"{path}: cover has more pixels than an image file should ({Image.MAX_IMAGE_PIXELS:,} at most); "
            f"use a JPEG or PNG of {MIN_SIZE_PX}-{MAX_SIZE_PX} px a side"
        ) from None
    except (UnidentifiedImageError, OSError) as exc:
        raise CoverError(f"{path}: not a readable image ({type(exc).__name__}); pass a JPEG or PNG file") from None
    try:
        with opened:
            kind = opened.format
            if kind not in ("JPEG", "PNG"):
                raise CoverError(f"{path}: cover is {kind or 'an unknown format'}, not JPEG or PNG; convert it to JPEG")
            opened.load()
            image = opened.copy()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CoverError(f"{path}: not a readable image ({type(exc).__name__}); pass a JPEG or PNG file") from None
    width, height = image.size
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise CoverError(f"{path}: cover is {width}x{height} px, not square; crop it to a square")
    if min(width, height) < MIN_SIZE_PX:
        raise CoverError(
            f"{path}: cover is {width}x{height} px, smaller than {MIN_SIZE_PX}x{MIN_SIZE_PX}; use a larger image"
        )
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side > MAX_SIZE_PX:
        image = image.resize((MAX_SIZE_PX, MAX_SIZE_PX), Image.Resampling.LANCZOS)
        side = MAX_SIZE_PX
    if image.mode != "RGB":  # JPEG has no alpha: flatten onto white
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    return Cover(_jpeg(image), side)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
