"""Files for the attachment tests: real images, one with GPS in its EXIF, a decompression bomb."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825


def png(width: int = 64, height: int = 48, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps(width: int = 800, height: int = 600) -> bytes:
    """A JPEG whose EXIF says where it was taken (latitude 48° 51' N) and by which camera."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A few hundred bytes of PNG that declare ``width`` x ``height`` pixels (10 gigapixels by
    default): decoding it would take tens of gigabytes of memory."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    # The first rows of zeros, compressed: the file stays tiny whatever it declares.
    idat = zlib.compress(b"\0" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def windows_exe() -> bytes:
    """The start of a Windows program (an MZ header), as a file renamed .png would hold."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240 + b"This program cannot"
