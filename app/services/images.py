"""Complaint photos: decode with Pillow, refuse what is not a real JPEG/PNG/WebP, re-encode without metadata.

Re-encoding from the decoded pixels drops EXIF (GPS included), ICC and text chunks, and any
bytes hidden after the image; what is stored is only what Pillow itself wrote.
"""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000          # a 40-megapixel photo; beyond that it is a decompression bomb
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}


class ImageRefused(ValueError):
    """The upload is not an image Kesu accepts; the message says why and what to send instead."""


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image ready to store."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_image(raw: bytes) -> CleanImage:
    """Decode ``raw`` and re-encode it in its own format without metadata, or raise ImageRefused."""
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageRefused(_("is larger than 5 MiB; send a smaller photo"))
    image = _open(raw)
    if image.format not in FORMATS:
        raise ImageRefused(_("is a %(format)s file; send a JPEG, PNG or WebP photo", format=image.format))
    if image.width * image.height > MAX_PIXELS:
        raise _bomb()
    content_type, extension = FORMATS[image.format]
    pixels = _decode(image)
    out = io.BytesIO()
    if image.format == "JPEG":
        pixels.convert("RGB").save(out, "JPEG", quality=88)
    elif image.format == "PNG":
        pixels.save(out, "PNG", optimize=False)
    else:
        pixels.save(out, "WEBP", quality=88)
    return CleanImage(out.getvalue(), content_type, extension, pixels.width, pixels.height)


def _bomb() -> ImageRefused:
    return ImageRefused(_("has too many pixels (a decompression bomb?); send a photo under 40 megapixels"))


def _open(raw: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(raw), formats=None)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (UnidentifiedImageError, OSError):
        raise ImageRefused(_("is not an image Kesu can read; send a JPEG, PNG or WebP photo")) from None


def _decode(image: Image.Image) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRefused(_("is damaged or cut off; take the photo again and send it")) from None
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA" if "A" in upright.getbands() or "transparency" in upright.info else "RGB")
    # A fresh image from the pixels alone: no info dict, so no EXIF/ICC/text can be written back.
    return Image.frombytes(upright.mode, upright.size, upright.tobytes())


def store_image(image: CleanImage, folder: Path) -> str:
    """Write the image under a random name in ``folder`` and return that name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + image.extension
    (folder / name).write_bytes(image.data)
    return name
