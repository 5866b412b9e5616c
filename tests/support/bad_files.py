"""Builders of hostile files for the fuzz tests (tests/fuzz/): bombs, corrupt headers, entity tricks.

They live apart from the tests so that each endpoint's module keeps only its cases (file, expected
message); the bytes are built here, small on disk however much they claim to hold.
"""
from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
                  + ']>\n<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&lol9;</seg></tuv></tu></body></tmx>')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE tmx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       '<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>&xxe;</seg></tuv></tu></body></tmx>')
GOOD_TMX_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header/><body>'


def put_file(directory: Path, name: str, data: bytes) -> Path:
    """``data`` written to ``directory / name``: the path, ready for ``handle_file``."""
    path = directory / name
    path.write_bytes(data)
    return path


@functools.cache
def zip_bomb() -> bytes:
    """A 100 MB file of zeros compressed to about 100 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("corpus.csv", "w") as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(100):
                member.write(chunk)
    return buffer.getvalue()


def mo_header_only() -> bytes:
    """The gettext MO magic and a header that points past the end of the file."""
    return struct.pack("<IIIIIII", 0x950412DE, 0, 1000, 28, 9_999_999, 0, 0)


def wav_header(channels: int, rate: int, data_bytes: int, bits: int = 16) -> bytes:
    """A RIFF/WAVE header that declares ``data_bytes`` of PCM: the file itself can be tiny."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, bits)
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", data_bytes))


def hour_of_silence(path: Path) -> Path:
    """A real 1-hour recording (8 kHz FLAC, ~100 KB): written in blocks, so it never sits in memory."""
    import soundfile as sf

    block = np.zeros(8_000 * 60, dtype=np.int16)
    with sf.SoundFile(str(path), "w", samplerate=8_000, channels=1, format="FLAC", subtype="PCM_16") as out:
        for _ in range(60):
            out.write(block)
    return path


def nan_wav(path: Path) -> Path:
    """A float WAV whose every sample is NaN (0.1 s at 16 kHz)."""
    import soundfile as sf

    sf.write(str(path), np.full(1600, np.nan, dtype=np.float32), 16_000, subtype="FLOAT")
    return path


def png(width: int, height: int) -> bytes:
    """A real greyscale PNG; a huge all-black one compresses to a few hundred KB (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
