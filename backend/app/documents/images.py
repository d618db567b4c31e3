"""Images as documents (PNG, JPEG, TIFF with any number of pages, WebP), read with Pillow.

An image is a page (a TIFF frame is one page each) whose text comes from OCR. The pixel count
is checked from the header before anything is decoded, against ``MAX_IMAGE_PIXELS``: a 20,000 x
20,000 image would take 400 MB as grey pixels and more in Tesseract, so it fails with a sentence
instead of running the reader out of memory. Pillow's own bomb guard is set to the same bound.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

from PIL import Image, ImageSequence, UnidentifiedImageError

# Magic bytes of the formats DocChat reads, with their MIME type and a name for messages.
IMAGE_FORMATS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"II*\x00", "image/tiff", "TIFF"),
    (b"MM\x00*", "image/tiff", "TIFF"),
)
WEBP_CONTENT_TYPE = "image/webp"

IMAGE_TOO_LARGE = (
    "This image is {width:,} by {height:,} pixels ({megapixels:,.0f} megapixels); the limit is "
    "{limit:,.0f} megapixels. Scale it down (or split it) and upload it again."
)
DAMAGED_IMAGE = "This image is damaged or incomplete and could not be read."


class ImageError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def image_content_type(head: bytes) -> str | None:
    """The MIME type of a supported image format, from its first bytes."""
    for magic, content_type, _ in IMAGE_FORMATS:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP_CONTENT_TYPE
    return None


def image_is_readable(data: bytes) -> bool:
    """Whether Pillow recognises the header (nothing is decoded; an image too large to read is
    still an image, which ingestion fails with its size)."""
    try:
        _unchecked_size(data)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return False
    return True


def image_page_count(data: bytes) -> int | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return int(getattr(image, "n_frames", 1))
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        Image.DecompressionBombError,  # reading the pages fails it with its size
    ):
        return None


def image_pages(data: bytes, *, max_pixels: int) -> Iterator[Image.Image]:
    """Each page (frame) of the image, decoded after its size was checked, valid until the next
    one is requested; raises ImageError."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(io.BytesIO(data)) as image:
            for frame in ImageSequence.Iterator(image):
                check_size(frame.width, frame.height, max_pixels)
                frame.load()
                yield frame
    except Image.DecompressionBombError as error:
        # Pillow refuses to open an image over twice its bound: say how large it is.
        width, height = _unchecked_size(data)
        check_size(width, height, max_pixels)
        raise ImageError(DAMAGED_IMAGE) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(DAMAGED_IMAGE) from error


def check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageError(
            IMAGE_TOO_LARGE.format(
                width=width,
                height=height,
                megapixels=width * height / 1e6,
                limit=max_pixels / 1e6,
            )
        )


def bounded_scale(width: float, height: float, scale: float, max_pixels: int) -> float:
    """``scale``, or less so that the scaled width x height stays within ``max_pixels``."""
    if width * height * scale * scale <= max_pixels:
        return scale
    return math.sqrt(max_pixels / (width * height))


def _unchecked_size(data: bytes) -> tuple[int, int]:
    """The size in the header, read with Pillow's bound lifted (the header only: no pixels)."""
    bound, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    finally:
        Image.MAX_IMAGE_PIXELS = bound


def page_png(data: bytes, number: int, *, max_pixels: int, max_side: int) -> bytes | None:
    """Page ``number`` (1-based) of the image as a PNG at most ``max_side`` pixels on its long
    side, for browsers (which show no TIFF); None when the image has no such page."""
    for index, frame in enumerate(image_pages(data, max_pixels=max_pixels)):
        if index + 1 == number:
            image = frame.convert("RGB") if frame.mode not in ("L", "RGB") else frame.copy()
            image.thumbnail((max_side, max_side), reducing_gap=2.0)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=False)
            return buffer.getvalue()
    return None
