"""The diagram as SVG text. Written as plain strings (every text and attribute escaped with
``xml_text``/``xml_attr``): the document uses a handful of elements, and a library would
add an import to every run for no gain in correctness."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..graphview import model_inputs
from ..report import Shape
from ..text import human, human_bytes, shape_text, with_human
from ..views import Tree
from .layout import CHAR, EDGE_FONT, FONT, FRAME_FONT, LINE, PAD, Box, Diagram, layout

LEGEND_FONT = 12
LEGEND_LINE = 17
TITLE_FONT = 15
LOW, HIGH = (255, 255, 255), (239, 131, 44)  # fill at no MACs and at the row with most

STYLE = """
.box rect { stroke: #444; stroke-width: 1; }
.box.io rect { fill: #e8eef7; stroke: #58708f; }
.type { font-weight: bold; }
.name { fill: #1d3f72; }
.args, .figures { fill: #333; }
.frame { fill: rgba(70, 110, 170, 0.05); stroke: #7d93b5; stroke-dasharray: 4 3; }
.frame-label { fill: #3a5680; font-weight: bold; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.edge { fill: none; stroke: #666; stroke-width: 1.3; }
.edge.skip { stroke: #2f6fd0; stroke-width: 1.6; }
.shape { fill: #555; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.box.shared rect { stroke: #2f6fd0; stroke-width: 1.4; stroke-dasharray: 6 3; }
.box.unused rect { fill: #f1f1f1; stroke: #999; stroke-dasharray: 2 2; }
.box.unused text { fill: #777; }
.mark.shared { fill: #2f6fd0; font-style: italic; }
.box.unused .mark.unused, .mark.unused { fill: #8a5a00; font-style: italic; }
.edge.unused { stroke: #aaa; stroke-dasharray: 2 2; }
.legend text { fill: #222; }
.legend .title { font-weight: bold; }
"""


def xml_text(text: str) -> str:
    """Escapes for element content: ``&``, ``<``, ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(text: str) -> str:
    """Escapes for a double-quoted attribute value, newlines and tabs kept as themselves."""
    return (
        xml_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
        .replace("\r", "&#13;")
    )  # fmt: skip


def fill(share: float) -> str:
    return "#" + "".join(f"{round(lo + (hi - lo) * share):02x}" for lo, hi in zip(LOW, HIGH))


def box_fill(box: Box, share: float) -> str:
    if box.kind != "row":
        return "#e8eef7"
    return "#f1f1f1" if box.unused else fill(share)


def number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def legend_lines(tree: Tree, diagram: Diagram) -> list[str]:
    report, t = tree.report, tree.report.totals
    depth = "all" if diagram.depth is None else str(diagram.depth)
    most = 100 * diagram.max_macs / t.macs if t.macs else 0
    return [
        f"{ends_text(tree)}"
        f" · depth {depth} (deepest {tree.max_depth}) · {len(report.rows)} layers",
        f"params {with_human(t.params)} · MACs {with_human(t.macs)} · FLOPs {with_human(t.flops)}",
        f"memory ({report.dtype}): params {human_bytes(t.param_bytes)}, activations "
        f"{human_bytes(t.activation_bytes)}",
        f"fill: share of the MACs, white 0% to orange {most:.1f}% (the largest box)",
        "blue edges: skips and branches · ×N: N identical copies, figures summed",
        *mark_legend(diagram),
    ]


MARK_LEGEND = {
    "shared": "dashed blue box: a shared use (share:), params counted at the row it names",
    "unused": "grey dotted box: unused, no output needs it; MACs in ( ) not in the totals",
}


def shift_down(diagram: Diagram, dy: float) -> None:
    """Moves the drawing ``dy`` down, below the legend."""
    for box in diagram.boxes:
        box.y += dy
    for edge in diagram.edges:
        edge.points = [(x, y + dy) for x, y in edge.points]
    for label in diagram.labels:
        label.y += dy
    for frame in diagram.frames:
        frame.y += dy
    diagram.height += dy
    diagram.top += dy


def mark_legend(diagram: Diagram) -> list[str]:
    """The legend's lines for the marks the diagram has."""
    lines = []
    if any(b.shares is not None for b in diagram.boxes):
        lines.append(MARK_LEGEND["shared"])
    if any(b.unused for b in diagram.boxes):
        lines.append(MARK_LEGEND["unused"])
    return lines


def ends_text(tree: Tree, words: bool = True) -> str:
    """``input SHAPE → output SHAPE`` (``SHAPE → SHAPE`` without ``words``), each input
    and output named where there are several."""
    report = tree.report
    inputs = model_inputs(report)
    outputs = [(t.name, t.shape) for t in report.outputs] or [("", report.output_shape)]

    def listed(ends: list[tuple[str, Shape]]) -> str:
        if len(ends) == 1:
            return shape_text(ends[0][1])
        return " & ".join(f"{name} {shape_text(shape)}" for name, shape in ends)
    if not words:
        return f"{listed(inputs)} → {listed(outputs)}"
    plural = "s" if len(inputs) > 1 else "", "s" if len(outputs) > 1 else ""
    return f"input{plural[0]} {listed(inputs)} → output{plural[1]} {listed(outputs)}"


def legend_height(lines: list[str]) -> float:
    return 14 + TITLE_FONT + 8 + len(lines) * LEGEND_LINE + 10


def render_svg(tree: Tree, depth: int | None, declaration: bool = True) -> Iterator[str]:
    """The SVG document of the diagram at ``depth``, in pieces."""
    report = tree.report
    diagram = layout(tree, depth)  # the legend's height depends on the marks it explains
    lines = legend_lines(tree, diagram)
    shift_down(diagram, legend_height(lines))
    title = report.model or report.source or "model"
    legend_w = max(len(line) * CHAR * LEGEND_FONT for line in lines + [title]) + 30
    legend_w = max(legend_w, 14 + len(lines[3]) * CHAR * LEGEND_FONT + 12 + 90 + 14)  # the fill scale
    width = number(max(diagram.width, legend_w))
    height = number(diagram.height)
    if declaration:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{FONT}" class="cnncalc-diagram">\n'
    )
    yield f"<title>{xml_text(title)}</title>\n<style>{STYLE}</style>\n"
    yield (
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker>'
        '<marker id="arrow-skip" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#2f6fd0"/></marker>'
        '<marker id="arrow-unused" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#aaa"/></marker>'
        '<linearGradient id="macs-scale"><stop offset="0" stop-color="' + fill(0) + '"/>'
        '<stop offset="1" stop-color="' + fill(1) + '"/></linearGradient></defs>\n'
    )
    yield f'<rect width="{width}" height="{height}" fill="#fff"/>\n'
    yield from legend(title, lines)
    yield '<g class="frames">\n'
    for frame in diagram.frames:
        yield (
            f'<g class="block" data-name="{xml_attr(frame.name)}"><title>{xml_text(frame.name)}</title>'
            f'<rect class="frame" x="{number(frame.x)}" y="{number(frame.y)}" '
            f'width="{number(frame.w)}" height="{number(frame.h)}" rx="6"/>'
            f'<text class="frame-label" x="{number(frame.x + 4)}" y="{number(frame.y + 13)}" '
            f'font-size="{FRAME_FONT}">{xml_text(frame.label)}</text></g>\n'
        )
    yield '</g>\n<g class="edges">\n'
    # skips first: where one leaves along another edge's way down, that edge is drawn over it
    for edge in sorted(diagram.edges, key=lambda e: not e.skip):
        points = " ".join(f"{number(x)},{number(y)}" for x, y in edge.points)
        kind, marker = ("edge skip", "arrow-skip") if edge.skip else ("edge", "arrow")
        if edge.unused:
            kind, marker = kind + " unused", "arrow-unused"
        yield f'<polyline class="{kind}" points="{points}" marker-end="url(#{marker})"/>\n'
    yield '</g>\n<g class="boxes">\n'
    total = report.totals.macs
    for box in diagram.boxes:
        share = box.macs / diagram.max_macs if diagram.max_macs else 0
        cls = "box" if box.kind == "row" else "box io"
        cls += " shared" if box.shares is not None else ""
        cls += " unused" if box.unused else ""
        tip = "\n".join(box.names) if box.names else box.kind
        if box.kind == "row" and total:
            tip += f"\n{100 * box.macs / total:.1f}% of the MACs ({human(box.macs)})"
        if box.shares is not None:
            tip += f"\nshares the weights of {box.shares}: params counted there"
        if box.unused:
            tip += "\nunused: no output needs it; not in the MACs, FLOPs or activations"
        yield (
            f'<g class="{cls}" data-kind="{box.kind}" data-names="{xml_attr(json.dumps(box.names))}">'
            f"<title>{xml_text(tip)}</title>"
            f'<rect x="{number(box.x)}" y="{number(box.y)}" width="{number(box.w)}" '
            f'height="{number(box.h)}" rx="4" fill="{box_fill(box, share)}"/>'
        )
        for i, (kind, text) in enumerate(box.texts):
            yield (
                f'<text class="{kind}" x="{number(box.x + PAD)}" '
                f'y="{number(box.y + PAD + FONT - 1 + i * LINE)}">{xml_text(text)}</text>'
            )
        yield "</g>\n"
    yield '</g>\n<g class="labels">\n'
    for label in diagram.labels:
        yield (
            f'<text class="{label.cls}" x="{number(label.x)}" y="{number(label.y)}" '
            f'font-size="{EDGE_FONT}">{xml_text(label.text)}</text>\n'
        )
    yield "</g>\n</svg>\n"


def legend(title: str, lines: list[str]) -> Iterator[str]:
    y = 14 + TITLE_FONT
    yield '<g class="legend">\n'
    yield f'<text class="title" x="14" y="{y}" font-size="{TITLE_FONT}">{xml_text(title)}</text>\n'
    y += 8
    for i, line in enumerate(lines):
        y += LEGEND_LINE
        yield f'<text x="14" y="{y}" font-size="{LEGEND_FONT}">{xml_text(line)}</text>\n'
        if i == 3:  # the fill scale beside its explanation
            x = 14 + len(line) * CHAR * LEGEND_FONT + 12
            yield (
                f'<rect x="{number(x)}" y="{y - 10}" width="90" height="11" '
                'fill="url(#macs-scale)" stroke="#999"/>\n'
            )
    yield "</g>\n"
