"""A QR code drawn in terminal cells, scannable from a phone: or a note saying why it isn't shown.

Each cell shows two modules, one above the other, with the upper and lower half-block characters, so the code
is as tall as it is wide on a terminal whose cells are about twice as high as they are wide. It is always
black on white, whatever the theme: phone scanners look for dark modules on a light background. A code that
does not fit is never drawn cropped or squeezed (a broken code is worse than none): the panel says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

QUIET_ZONE = 2
"""Light modules around the code. The standard asks for 4, but on a screen surrounded by other text 2 scan
reliably (as ``qrencode -t UTF8`` draws them) and keep the code small enough for ordinary terminals."""

MODULE_STYLE = Style(color="#000000", bgcolor="#ffffff")
"""True black on true white: theme-independent (ANSI black/white are remapped by terminal themes)."""

UPPER, LOWER, FULL, EMPTY = "▀", "▄", "█", " "


def invoice_qr_payload(bolt11: str) -> str:
    """The text to encode for an invoice: a ``lightning:`` URI in upper case, as BOLT 11 recommends for QR
    codes (upper case fits QR's alphanumeric mode, which makes the code about a fifth smaller)."""
    return f"LIGHTNING:{bolt11.upper()}"


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of ``data``'s QR code (True = dark), quiet zone included, as the ``qrcode`` package makes it.

    Error correction L: the code is read from a screen, not a scuffed sticker, and L keeps it smallest.
    """
    import qrcode  # here, not at the top: the first screen shows no code, and the import costs start-up (issue 5)
    from qrcode.constants import ERROR_CORRECT_L

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def matrix_to_cells(matrix: list[list[bool]]) -> list[str]:
    """Two rows of modules per line of half-blocks (an odd last row is paired with a light one)."""
    lines = []
    for top_index in range(0, len(matrix), 2):
        top = matrix[top_index]
        bottom = matrix[top_index + 1] if top_index + 1 < len(matrix) else [False] * len(top)
        lines.append(
            "".join(
                FULL if upper and lower else UPPER if upper else LOWER if lower else EMPTY
                for upper, lower in zip(top, bottom, strict=True)
            )
        )
    return lines


def cells_to_matrix(lines: list[str]) -> list[list[bool]]:
    """The inverse of :func:`matrix_to_cells` (with the padding row, if any): read a drawn code back."""
    matrix: list[list[bool]] = []
    for line in lines:
        matrix.append([char in (UPPER, FULL) for char in line])
        matrix.append([char in (LOWER, FULL) for char in line])
    return matrix


@dataclass(frozen=True)
class QrFit:
    """Whether a code fits the room it was given, and the numbers to explain it when it doesn't."""

    needed: Size
    available: Size

    @property
    def fits(self) -> bool:
        return self.needed.width <= self.available.width and self.needed.height <= self.available.height


class QrCode(Widget):
    """The QR code of ``data`` in half-block cells, exactly as large as the code: never cropped or scaled."""

    DEFAULT_CSS = """
    QrCode {
        width: auto;
        height: auto;
    }
    """

    data: reactive[str] = reactive("", layout=True)
    """The text the code encodes; empty draws nothing."""

    def __init__(self, data: str = "", *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._cache: tuple[str, list[str]] = ("", [])
        self.set_reactive(QrCode.data, data)

    @property
    def lines(self) -> list[str]:
        """The drawn code, one string per terminal line (cached: encoding a long invoice takes milliseconds)."""
        if self._cache[0] != self.data:
            self._cache = (self.data, matrix_to_cells(qr_matrix(self.data)) if self.data else [])
        return self._cache[1]

    @property
    def cell_size(self) -> Size:
        """Columns and lines the code takes (one column per module, one line per two modules)."""
        lines = self.lines
        return Size(len(lines[0]) if lines else 0, len(lines))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.cell_size.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.cell_size.height

    def render(self) -> Text:
        return Text("\n".join(self.lines), style=MODULE_STYLE, no_wrap=True, overflow="ignore", end="")


class QrPanel(Widget):
    """A QR code with a caption, or a note when the room it is given is too small for a scannable code.

    The screen that owns the panel knows the layout, so it tells the panel how much room there is
    (:meth:`fit`); the panel decides whether the code can be drawn whole.
    """

    DEFAULT_CSS = """
    QrPanel {
        width: auto;
        height: auto;
    }
    QrPanel #qr-caption, QrPanel #qr-note {
        width: auto;
        max-width: 100%;
        color: $text-muted;
    }
    QrPanel #qr-note {
        display: none;
    }
    QrPanel.-too-small QrCode, QrPanel.-too-small #qr-caption {
        display: none;
    }
    QrPanel.-too-small #qr-note {
        display: block;
    }
    """

    CAPTION_LINES = 1
    """Lines under the code (the caption)."""

    def __init__(self, *, caption: str = "", name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._caption = caption
        self.last_fit: QrFit | None = None
        """The last verdict of :meth:`fit` (None before the first)."""

    def compose(self) -> ComposeResult:
        yield QrCode(id="qr-code")
        yield Static(self._caption, id="qr-caption")
        yield Static(id="qr-note")

    @property
    def code(self) -> QrCode:
        return self.query_one("#qr-code", QrCode)

    @property
    def note(self) -> Static:
        return self.query_one("#qr-note", Static)

    @property
    def needed(self) -> Size:
        """Room the code and its caption need."""
        size = self.code.cell_size
        return Size(size.width, size.height + self.CAPTION_LINES)

    @property
    def showing_code(self) -> bool:
        """True while the code is drawn (there is data and it fits)."""
        return bool(self.code.data) and not self.has_class("-too-small")

    def show(self, data: str, caption: str = "") -> None:
        """Encode ``data`` (empty clears the code); call :meth:`fit` afterwards."""
        self.code.data = data
        self.query_one("#qr-caption", Static).update(caption or self._caption)

    def fit(self, available: Size) -> QrFit:
        """Draw the code if it fits in ``available`` cells, else show a note saying what it needs."""
        verdict = QrFit(needed=self.needed, available=available)
        self.last_fit = verdict
        self.set_class(not verdict.fits, "-too-small")
        if not verdict.fits:
            self.note.update(
                f"QR code hidden: a scannable code needs {verdict.needed.width}x{verdict.needed.height} cells "
                f"and there are {max(available.width, 0)}x{max(available.height, 0)}. Enlarge the terminal "
                "(or make the font smaller), or copy the invoice instead."
            )
        return verdict
