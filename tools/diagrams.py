"""The course's block diagrams, drawn with matplotlib into ``images/`` (the source of truth)
and embedded into the notebooks that teach them.

    python3 tools/course.py diagrams            re-draw every diagram into images/
    python3 tools/course.py diagrams --check    exit 1 if a drawn file is stale

Each diagram is written twice, byte for byte reproducible with the pinned matplotlib: an SVG
(``svg.hashsalt`` fixed, no date) to look at and link, and a PNG (fixed dpi, no software tag)
that ``format`` embeds as a cell attachment into every Markdown cell carrying the marker
``<!-- diagram: NAME -->`` (see :func:`embed`). An attachment travels inside the notebook, so
the figure shows when the notebook is opened alone (Colab, GitHub, the suite's empty-folder
run), where a relative link ``images/NAME.svg`` would break. ``check-format`` and the tests
fail when an embedded attachment differs from ``images/NAME.png``.
"""
from __future__ import annotations

import base64
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "images"
MARKER = re.compile(r"<!-- diagram: ([a-z0-9_]+) -->")
DPI = 100

COLORS = {"embed": "#f6d5e0", "attention": "#fbe0b6", "norm": "#f7f3b0", "ffn": "#cfe6f7",
          "head": "#ddd5f2", "frame": "#f2f2f2"}
BOX_W, BOX_H, GAP = 2.6, 0.5, 0.32


# --------------------------------------------------------------------------- drawing
class _Column:
    """One stack of boxes drawn bottom-up on a shared axis; remembers where each box is."""

    def __init__(self, ax, x):
        self.ax, self.x, self.y, self.boxes = ax, x, 0.0, {}

    def text(self, label, key=None, dy=0.45):
        self.ax.text(self.x, self.y, label, ha="center", va="bottom", fontsize=8.5,
                     style="italic")
        self.boxes[key or label] = (self.y, self.y + 0.25)
        self.y += dy

    def box(self, label, kind, key=None, arrow=True):
        from matplotlib.patches import FancyBboxPatch

        bottom = self.y
        if arrow:
            self._arrow(bottom - GAP, bottom)
        self.ax.add_patch(FancyBboxPatch((self.x - BOX_W / 2, bottom), BOX_W, BOX_H,
                                         boxstyle="round,pad=0,rounding_size=0.08",
                                         fc=COLORS[kind], ec="#333333", lw=0.9))
        self.ax.text(self.x, bottom + BOX_H / 2, label, ha="center", va="center", fontsize=8.5)
        self.boxes[key or label] = (bottom, bottom + BOX_H)
        self.y = bottom + BOX_H + GAP
        return bottom

    def add_positions(self):
        """The sum token embedding + positional encoding, with the encoding drawn beside it."""
        from matplotlib.patches import Circle

        center = self.y + 0.12
        self._arrow(self.y - GAP, center - 0.16)
        self.ax.add_patch(Circle((self.x, center), 0.16, fc="white", ec="#333333", lw=0.9))
        self.ax.text(self.x, center, "+", ha="center", va="center", fontsize=11)
        self.ax.text(self.x + 0.35, center, "positional\nencoding", ha="left", va="center",
                     fontsize=7.5)
        self.y = center + 0.16 + GAP

    def residual(self, below, into):
        """A residual connection: from the stream below sub-layer ``below`` around it into the
        left edge of the Add & Norm box ``into``."""
        start = self.boxes[below][0] - GAP / 2
        end = sum(self.boxes[into]) / 2
        left = self.x - BOX_W / 2 - 0.3
        self.ax.plot([self.x, left, left], [start, start, end], color="#555555", lw=0.9)
        self.ax.annotate("", xy=(self.x - BOX_W / 2, end), xytext=(left, end),
                         arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.9,
                                         shrinkA=0, shrinkB=0))

    def frame(self, first, last, label):
        """The repeated block: a grey frame around boxes ``first`` .. ``last``, ``N x`` beside."""
        from matplotlib.patches import FancyBboxPatch

        bottom, top = self.boxes[first][0] - 0.2, self.boxes[last][1] + 0.15
        self.ax.add_patch(FancyBboxPatch((self.x - BOX_W / 2 - 0.5, bottom), BOX_W + 1.0,
                                         top - bottom, boxstyle="round,pad=0,rounding_size=0.15",
                                         fc=COLORS["frame"], ec="#777777", lw=0.9, zorder=0))
        self.ax.text(self.x + BOX_W / 2 + 0.6, (bottom + top) / 2, label, ha="left",
                     va="center", fontsize=10, weight="bold")

    def _arrow(self, y0, y1):
        self.ax.annotate("", xy=(self.x, y1), xytext=(self.x, y0),
                         arrowprops=dict(arrowstyle="-|>", color="#333333", lw=0.9,
                                         shrinkA=0, shrinkB=0))


def _sublayer_pair(col, label, kind, key, norm_key):
    col.box(label, kind, key=key)
    col.box("Add & Norm", "norm", key=norm_key)
    col.residual(key, norm_key)


def _encoder(col, title="inputs (token ids)", self_attention="Multi-head self-attention"):
    col.text(title, key="in")
    col.box("Token embedding", "embed", key="embed")
    col.add_positions()
    col.y += 0.2
    _sublayer_pair(col, self_attention, "attention", "self", "norm1")
    _sublayer_pair(col, "Feed-forward", "ffn", "ffn", "norm2")
    col.frame("self", "norm2", "N ×")


def _decoder(col, cross=True, title="outputs so far (shifted right)"):
    col.text(title, key="in")
    col.box("Token embedding", "embed", key="embed")
    col.add_positions()
    col.y += 0.2
    _sublayer_pair(col, "Masked multi-head\nself-attention", "attention", "self", "norm1")
    if cross:
        _sublayer_pair(col, "Multi-head\ncross-attention", "attention", "cross", "norm_cross")
    _sublayer_pair(col, "Feed-forward", "ffn", "ffn", "norm2")
    col.frame("self", "norm2", "N ×")
    col.y += 0.2
    col.box("Linear", "head", key="linear")
    col.box("Softmax", "head", key="softmax")
    col.text("next-token probabilities", key="out", dy=0.3)
    col._arrow(col.boxes["out"][0] - GAP, col.boxes["out"][0])


def _figure(width, height):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "advml-diagrams", "font.family": "DejaVu Sans",
                         "path.simplify": True})
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    return fig, ax


def encoder_decoder():
    fig, ax = _figure(6.8, 6.4)
    enc, dec = _Column(ax, 1.8), _Column(ax, 6.8)
    _encoder(enc)
    _decoder(dec)
    # the encoder's output feeds the keys and values of every decoder block's cross-attention
    top = enc.boxes["norm2"][1]
    cross_y = sum(dec.boxes["cross"]) / 2
    elbow = enc.x + BOX_W / 2 + 1.0
    ax.plot([enc.x, enc.x, elbow, elbow], [top, top + 0.35, top + 0.35, cross_y],
            color="#333333", lw=0.9)
    ax.annotate("", xy=(dec.x - BOX_W / 2, cross_y), xytext=(elbow, cross_y),
                arrowprops=dict(arrowstyle="-|>", color="#333333", lw=0.9, shrinkA=0, shrinkB=0))
    ax.text(elbow + 0.08, cross_y + 0.08, "keys, values", fontsize=7, ha="left", va="bottom")
    ax.text(enc.x, enc.y + 0.8, "Encoder", ha="center", fontsize=11, weight="bold")
    ax.text(dec.x, dec.y + 0.15, "Decoder", ha="center", fontsize=11, weight="bold")
    ax.set(xlim=(-0.4, 9.2), ylim=(-0.2, dec.y + 0.6))
    return fig


def decoder_only():
    fig, ax = _figure(3.9, 5.6)
    col = _Column(ax, 1.9)
    _decoder(col, cross=False, title="tokens so far")
    ax.text(col.x, col.y + 0.15, "Decoder-only (GPT)", ha="center", fontsize=11, weight="bold")
    ax.set(xlim=(-0.4, 4.6), ylim=(-0.2, col.y + 0.6))
    return fig


def encoder_only():
    fig, ax = _figure(3.9, 4.6)
    col = _Column(ax, 1.9)
    _encoder(col, title="tokens (whole input)", self_attention="Multi-head\nself-attention")
    col.y += 0.2
    col.box("Pooling + classifier", "head", key="head")
    col.text("class logits / token vectors", key="out", dy=0.3)
    col._arrow(col.boxes["out"][0] - GAP, col.boxes["out"][0])
    ax.text(col.x, col.y + 0.15, "Encoder-only (BERT)", ha="center", fontsize=11,
            weight="bold")
    ax.set(xlim=(-0.4, 4.6), ylim=(-0.2, col.y + 0.6))
    return fig


DIAGRAMS = {"transformer_encoder_decoder": encoder_decoder,
            "transformer_decoder_only": decoder_only,
            "transformer_encoder_only": encoder_only}


def render(name: str) -> dict[str, bytes]:
    """The diagram ``name`` as ``{"svg": bytes, "png": bytes}``, the same bytes every time."""
    import matplotlib.pyplot as plt

    fig = DIAGRAMS[name]()
    files = {}
    for fmt, metadata in (("svg", {"Date": None}), ("png", {"Software": None})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
        files[fmt] = buffer.getvalue()
    plt.close(fig)
    return files


def draw_all(write_back: bool = True, folder: Path = IMAGES) -> list[Path]:
    """Re-draw every diagram; return the files that were (or, without write_back, would be)
    changed."""
    changed = []
    for name in DIAGRAMS:
        for fmt, data in render(name).items():
            path = folder / f"{name}.{fmt}"
            if not path.exists() or path.read_bytes() != data:
                changed.append(path)
                if write_back:
                    path.write_bytes(data)
    return changed


# --------------------------------------------------------------------------- embedding
def attachment_name(name: str) -> str:
    return f"{name}.png"


def embed(nb, folder: Path = IMAGES):
    """Attach ``images/NAME.png`` to every Markdown cell marked ``<!-- diagram: NAME -->`` and
    make sure the cell shows it (``![...](attachment:NAME.png)``, added after the marker when
    missing). Attachments no marker asks for are dropped from marked cells. Returns the
    notebook (changed in place)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        names = MARKER.findall(cell.source)
        if not names:
            continue
        attachments = {}
        for name in names:
            path = folder / f"{name}.png"
            if name not in DIAGRAMS or not path.exists():
                raise FileNotFoundError(f"diagram {name!r}: no {path.relative_to(ROOT)}; "
                                        "draw it with `python3 tools/course.py diagrams`")
            attachments[attachment_name(name)] = {
                "image/png": base64.b64encode(path.read_bytes()).decode("ascii")}
            link = f"](attachment:{attachment_name(name)})"
            if link not in cell.source:
                marker = f"<!-- diagram: {name} -->"
                cell.source = cell.source.replace(
                    marker, f"{marker}\n\n![{name.replace('_', ' ')}{link}", 1)
        cell["attachments"] = attachments
    return nb


def stale_attachments(nb, folder: Path = IMAGES) -> list[str]:
    """Names of the diagrams whose embedded attachment differs from ``images/NAME.png``."""
    stale = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for name in MARKER.findall(cell.source):
            path = folder / f"{name}.png"
            embedded = cell.get("attachments", {}).get(attachment_name(name), {}).get("image/png")
            if not path.exists() or embedded != base64.b64encode(path.read_bytes()).decode():
                stale.append(name)
    return stale


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = draw_all(write_back=not check)
    for path in changed:
        print(("stale: " if check else "drew ") + path.relative_to(ROOT).as_posix())
    if not check:
        print(f"{len(DIAGRAMS)} diagrams in images/ ({len(changed)} files changed); "
              "run `python3 tools/course.py format` to embed them")
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
