"""QR codes as inline SVG, drawn here (no outside service ever sees the secret)."""

from __future__ import annotations

import re

import qrcode
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage


def qr_svg(data: str, label: str) -> Markup:
    """An <svg> element showing `data` as a QR code, sized by CSS (class "qr-code")."""
    image = qrcode.make(data, image_factory=SvgPathImage, border=4)
    svg = image.to_string(encoding="unicode")
    # The library sizes it in millimetres; the page sizes it instead, and names it.
    opening = Markup('<svg class="qr-code" role="img" aria-label="{}"').format(label)
    return Markup(re.sub(r'^<svg width="[^"]*" height="[^"]*"', opening, svg, count=1))
