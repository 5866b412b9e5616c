"""Uploaded pictures, decoded safely into upright 8-bit RGB for the image models (OCR, captioning).

The pixel count is checked from the header before any pixel is decoded, so a decompression bomb
costs nothing. Formats Pillow opens but a plain ``convert("RGB")`` gets wrong are handled here:
16-bit and float greyscale (scaled, not clipped to white), CMYK JPEG, transparency (laid on white,
so black text on a transparent logo stays visible), EXIF orientation (phones store a rotation
flag instead of rotating the pixels), and animation (the first frame is read, and the note says so).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from backend.core.errors import InvalidInput, LimitExceeded
from backend.core.settings import Settings

ORIENTATION = 0x0112  # the EXIF tag


@dataclass(frozen=True)
class DecodedImage:
    image: object = field(repr=False)  # PIL.Image.Image, mode "RGB", upright
    format: str  # Pillow's name for the file format: "PNG", "JPEG", "GIF", ...
    mode: str  # the file's own pixel mode before conversion: "RGB", "CMYK", "I;16", "P", ...
    frames: int  # 1 for a still image
    rotated: bool  # an EXIF orientation was applied

    @property
    def notes(self) -> tuple[str, ...]:
        """What was done to the picture before reading it, in words, for the tab."""
        notes = []
        if self.frames > 1:
            notes.append(f"This {self.format} has {self.frames} frames; only the first one is read.")
        if self.rotated:
            notes.append("The picture was turned upright as its EXIF orientation says.")
        return tuple(notes)


def _to_rgb(img):
    """8-bit RGB from any mode Pillow decodes, scaling high-bit-depth data instead of clipping it."""
    import numpy as np
    from PIL import Image

    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(values.max()), 1.0)
        if img.mode == "I" and values.max() <= 255:  # 8-bit data widened to 32 bits
            top = 255.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    return img.convert("RGB")


def load_image(path: str | os.PathLike | None, settings: Settings) -> DecodedImage:
    """The picture at ``path``, upright 8-bit RGB. Raises InvalidInput for a missing, empty,
    corrupt or unsupported file and LimitExceeded above ``settings.limits.max_image_pixels``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if path is None or str(path) == "":
        raise InvalidInput("No image was given. Upload a PNG, JPEG or WebP picture.")
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InvalidInput("The image file is empty or missing. Upload the picture again.")
    cap = settings.limits.max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > cap:
                    raise LimitExceeded(
                        f"The image is {width:,}×{height:,} pixels ({width * height / 1e6:.0f} MP); the limit is "
                        f"{cap / 1e6:.0f} MP. Resize it and upload it again."
                    )
                fmt, mode, frames = img.format or "image", img.mode, getattr(img, "n_frames", 1)
                img.seek(0)
                img.load()
                rotated = img.getexif().get(ORIENTATION, 1) not in (0, 1)
                upright = ImageOps.exif_transpose(img) if rotated else img
                return DecodedImage(_to_rgb(upright), fmt, mode, frames, rotated)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceeded(f"The image declares far more pixels than can be decoded safely (a decompression "
                            f"bomb); the limit is {cap / 1e6:.0f} MP. Resize it and upload it again.") from exc
    except UnidentifiedImageError as exc:
        raise InvalidInput("The file is not an image Pillow can read (corrupt or unsupported). Upload a PNG or JPEG.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated data, broken chunks
        raise InvalidInput("The image data is corrupt or truncated. Upload the picture again.") from exc


def decode_image(path: str | os.PathLike | None, settings: Settings):
    """An upright RGB PIL image from ``path`` (see ``load_image``)."""
    return load_image(path, settings).image
