"""QR code of a join link as PNG bytes (chat) or SVG (presenter page)."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage


def qr_png(data: str, *, box_size: int = 12) -> bytes:
    """Returns a QR code encoding data as PNG bytes (quiet zone included)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image().save(buf)
    return buf.getvalue()


def qr_svg(data: str) -> bytes:
    """Returns a QR code encoding data as a scalable SVG document (quiet zone included)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, image_factory=SvgPathImage)
    code.add_data(data)
    code.make(fit=True)
    return bytes(code.make_image().to_string(encoding="utf-8"))
