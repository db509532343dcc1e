"""QR codes as inline SVG, drawn here (no outside service ever sees the secret)."""

from __future__ import annotations

import re

from markupsafe import Markup


def qr_svg(data: str, label: str) -> Markup:
    """An <svg> element showing `data` as a QR code, sized by CSS (class "qr-code")."""
    # Imported here, when a code is shown: not at every start of the app (~10 ms).
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(data, image_factory=SvgPathImage, border=4)
    svg = image.to_string(encoding="unicode")
    # The library sizes it in millimetres; the page sizes it instead, and names it.
    opening = Markup('<svg class="qr-code" role="img" aria-label="{}"').format(label)
    return Markup(re.sub(r'^<svg width="[^"]*" height="[^"]*"', opening, svg, count=1))
