"""One self-contained HTML page: totals, a chart of where the compute and the memory go,
the diagram, and the whole table as a tree whose blocks fold and unfold on a click. CSS,
script and pictures are inline; nothing is fetched, so it works offline and from a file.

``#test-fold`` in the page's address makes its own script fold the first block and write
what it saw into ``#test-result`` (for a headless browser's check)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from ..render import compute_text, params_text, percent
from ..text import human, human_bytes, shape_text, with_human
from ..views import Node, Tree, activation_bytes, input_shapes, output_shape
from .svg import ends_text, render_svg, xml_attr, xml_text

CHART_ROWS = 30  # the top-level rows charted one by one; the rest are summed as one bar

CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --accent: #ef832c; --blue: #2f6fd0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.mono, td, .totals dd { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); grid-auto-flow: dense; gap: 10px; margin: 12px 0; }
.totals div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.totals dt { color: var(--muted); font-size: 12px; }
.totals dd { margin: 0; font-size: 15px; font-weight: 600; }
.diagram { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: 6px; }
.chart-wrap { overflow-x: auto; }
.chart text { font: 12px "DejaVu Sans Mono", Menlo, Consolas, monospace; fill: var(--ink); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #eef1f4; white-space: nowrap; }
th { position: sticky; top: 0; background: #f6f8fa; font-size: 12.5px; }
td.num, th.num { text-align: right; }
tr.block td { background: #f7f9fc; font-weight: 600; }
tr.hidden { display: none; }
tr.unused td { color: #8a8f96; font-style: italic; }
tr.shared td:nth-child(5) { color: var(--blue); }
.totals div.wide { grid-column: span 2; }
.totals div.full { grid-column: 1 / -1; }
button.toggle { font: inherit; border: 0; background: none; cursor: pointer; padding: 0 4px 0 0; color: var(--blue); }
.leafpad { display: inline-block; width: 1.2em; }
@media print {
  body { padding: 0; font-size: 10pt; }
  .diagram { max-height: none; overflow: visible; border: 0; }
  .diagram svg, .chart { max-width: 100%; height: auto; }
  button.toggle { display: none; }
  th { position: static; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""

SCRIPT = r"""
(function () {
  "use strict";
  function report(text) {
    var out = document.createElement("pre");
    out.id = "js-error";
    out.textContent = text;
    document.body.appendChild(out);
  }
  window.addEventListener("error", function (e) { report(String(e.message)); });
  var rows = Array.prototype.slice.call(document.querySelectorAll("#tree tbody tr"));
  function depth(tr) { return Number(tr.getAttribute("data-depth")); }
  function refresh() {
    var closedAt = Infinity;  // rows deeper than a folded block are hidden
    rows.forEach(function (r) {
      var d = depth(r);
      if (d <= closedAt) { closedAt = Infinity; }
      var hidden = d > closedAt;
      r.classList.toggle("hidden", hidden);
      if (!hidden && r.getAttribute("data-open") === "0") { closedAt = d; }
    });
  }
  function setOpen(index, open) {
    var tr = rows[index];
    tr.setAttribute("data-open", open ? "1" : "0");
    var button = tr.querySelector("button.toggle");
    button.textContent = open ? "\u25be" : "\u25b8";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    refresh();
  }
  rows.forEach(function (tr, index) {
    var button = tr.querySelector("button.toggle");
    if (button) {
      button.addEventListener("click", function () {
        setOpen(index, tr.getAttribute("data-open") !== "1");
      });
    }
  });
  rows.forEach(function (tr, index) {
    if (tr.getAttribute("data-open") === "0") { setOpen(index, false); }
  });
  refresh();
  function shown() { return rows.filter(function (r) { return !r.classList.contains("hidden"); }).length; }
  if (location.hash === "#test-fold") {
    var first = document.querySelector("#tree tr.block[data-open='1'] button.toggle");
    var result = {rows: rows.length, before: shown(), block: null, after: null, again: null};
    if (first) {
      result.block = first.closest("tr").getAttribute("data-name");
      first.click();
      result.after = shown();
      first.click();
      result.again = shown();
    }
    var out = document.createElement("pre");
    out.id = "test-result";
    out.textContent = JSON.stringify(result);
    document.body.appendChild(out);
  }
  document.body.setAttribute("data-ready", "yes");
})();
"""


def totals_items(tree: Tree) -> list[tuple[str, str]]:
    report, t = tree.report, tree.report.totals
    return [
        ("params", with_human(t.params)),
        ("trainable / non-trainable", f"{t.trainable_params:,} / {t.non_trainable_params:,}"),
        ("MACs", with_human(t.macs)),
        ("FLOPs", with_human(t.flops)),
        (f"param memory ({report.dtype})", human_bytes(t.param_bytes)),
        (f"activations ({report.dtype})", human_bytes(t.activation_bytes)),
        ("input → output", ends_text(tree, words=False)),
        ("layers", f"{len(report.rows):,}"),
    ]


def chart_nodes(tree: Tree) -> tuple[list[Node], int]:
    """The chart's rows: the top-level rows, where a block that holds more than half the
    MACs is replaced by its children (again, while that stays within ``CHART_ROWS``): a
    model wrapped in one block, or a U-Net's outer skip, says little at the top. Returns
    the rows and how many blocks were opened."""
    total = tree.report.totals.macs
    nodes = list(tree.root.children)
    opened = 0
    while total:
        big = max(range(len(nodes)), key=lambda i: nodes[i].macs, default=None)
        if big is None or not nodes[big].is_block or 2 * nodes[big].macs <= total:
            break
        children = nodes[big].children
        if len(nodes) - 1 + len(children) > CHART_ROWS:
            break
        nodes[big : big + 1] = children
        opened += 1
    return nodes, opened


def chart(tree: Tree, nodes: list[Node]) -> Iterator[str]:
    """Horizontal bars for each of ``nodes``: its share of the params, the MACs and the
    activation memory. Past ``CHART_ROWS`` rows, the smaller ones are summed into one."""
    t = tree.report.totals
    memory = {id(n): activation_bytes(tree, n) for n in nodes}
    total_memory = sum(memory.values()) or 1
    entries = [(n.name, n.params, n.macs, memory[id(n)]) for n in nodes]
    if len(entries) > CHART_ROWS:
        ranked = sorted(range(len(entries)), key=lambda i: -(entries[i][2] / (t.macs or 1) + entries[i][3] / total_memory))
        keep = set(ranked[: CHART_ROWS - 1])
        rest = [entries[i] for i in range(len(entries)) if i not in keep]
        entries = [entries[i] for i in range(len(entries)) if i in keep]
        entries.append((f"{len(rest)} other rows", sum(e[1] for e in rest), sum(e[2] for e in rest), sum(e[3] for e in rest)))
    label_w = max([len(e[0]) for e in entries] + [8]) * 7.6 + 16
    bar_w, text_w, row_h = 180, 130, 22
    column = bar_w + 8 + text_w
    width = label_w + 3 * column
    height = 26 + row_h * len(entries)
    colours = ("#8c6bb1", "#ef832c", "#2f6fd0")
    yield (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" role="img">'
    )
    yield "<title>share of the params, MACs and activation memory by top-level row</title>"
    for k, title in enumerate(("params", "MACs", "activation memory")):
        yield f'<text x="{label_w + k * column:.0f}" y="14" font-weight="bold">{title}</text>'
    for i, (name, params, macs, mem) in enumerate(entries):
        y = 24 + i * row_h
        yield f'<text x="0" y="{y + 12}">{xml_text(name)}</text>'
        for k, (part, whole) in enumerate(((params, t.params), (macs, t.macs), (mem, total_memory))):
            x = label_w + k * column
            share = part / whole if whole else 0
            figure = human_bytes(part) if k == 2 else human(part)
            yield (
                f'<rect x="{x:.0f}" y="{y + 2}" width="{bar_w}" height="13" fill="#f0f2f5"/>'
                f'<rect x="{x:.0f}" y="{y + 2}" width="{bar_w * share:.1f}" height="13" fill="{colours[k]}"/>'
                f'<text x="{x + bar_w + 8:.0f}" y="{y + 12}">{percent(part, whole)} · {figure}</text>'
            )
    yield "</svg>"


def tree_rows(tree: Tree, depth: int | None) -> Iterator[str]:
    """Every block and leaf as a table row in execution order, blocks first; blocks at
    ``depth`` or deeper start folded."""
    report = tree.report

    def cells(node: Node) -> str:
        row = node.row
        if row is None:
            shapes = input_shapes(tree, node)
            kind = f"block · {node.layers} layers"
            inputs = " & ".join(shape_text(s) for s in shapes) or "-"
        else:
            kind = row.type
            inputs = " & ".join(shape_text(s) for s in (row.input_shapes or (row.input_shape,)))
        # as the text tables write them
        params = params_text(node.params, node.trainable_params, row.shares if row is not None else None)
        macs = compute_text(node.macs, node.idle_macs, node.used, partly=True)
        flops = compute_text(node.flops, node.idle_flops, node.used, partly=True)
        return (
            f"<td>{xml_text(kind)}</td><td>{xml_text(inputs)}</td>"
            f"<td>{shape_text(output_shape(tree, node))}</td>"
            f'<td class="num">{xml_text(params)}</td><td class="num">{macs}</td>'
            f'<td class="num">{flops}</td>'
            f'<td class="num">{percent(node.macs, report.totals.macs)}</td>'
            f'<td class="num">{human_bytes(activation_bytes(tree, node))}</td>'
        )

    def marks(node: Node) -> str:
        shared = node.row is not None and node.row.shares is not None
        return (" shared" if shared else "") + ("" if node.used else " unused")

    def walk(node: Node) -> Iterator[str]:
        for child in node.children:
            indent = f'style="padding-left:{10 + 18 * child.depth}px"'
            attrs = f'data-depth="{child.depth}" data-name="{xml_attr(child.name)}"'
            if child.is_block:
                is_open = "0" if depth is not None and child.depth >= depth else "1"
                yield (
                    f'<tr class="block{marks(child)}" {attrs} data-open="{is_open}"><td {indent}>'
                    f'<button class="toggle" type="button" aria-expanded="true" '
                    f'title="fold or unfold">\u25be</button>{xml_text(child.short)}</td>{cells(child)}</tr>\n'
                )
                yield from walk(child)
            else:
                yield (
                    f'<tr class="layer{marks(child)}" {attrs}><td {indent}><span class="leafpad"></span>'
                    f"{xml_text(child.short)}</td>{cells(child)}</tr>\n"
                )

    yield from walk(tree.root)


def render_html(tree: Tree, depth: int | None) -> Iterator[str]:
    """The page, in pieces; the diagram and the folded table at ``depth``."""
    report = tree.report
    title = report.model or report.source or "model"
    yield "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    yield '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    yield f"<title>{xml_text(title)} — cnncalc</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    yield f'<h1 id="model">{xml_text(title)}</h1>\n'
    shown = "all" if depth is None else str(depth)
    yield (
        f'<p class="sub">{len(report.rows):,} layers · diagram and table at depth {shown} of '
        f"{tree.max_depth} · computed by cnncalc from PyTorch's rules, nothing run</p>\n"
    )
    yield '<dl class="totals" id="totals">\n'
    for key, value in totals_items(tree):
        wide = "" if len(value) <= 24 else (' class="wide"' if len(value) <= 60 else ' class="full"')
        yield f"<div{wide}><dt>{xml_text(key)}</dt><dd>{xml_text(value)}</dd></div>\n"
    yield "</dl>\n<h2>Where the compute and the memory go</h2>\n"
    nodes, opened = chart_nodes(tree)
    where = "top-level row" + ("" if not opened else ", the block with most of the MACs opened")
    yield f'<p class="sub">by {where}; activation memory is the outputs each one makes</p>\n'
    yield '<div class="chart-wrap">'
    yield from chart(tree, nodes)
    yield "</div>"
    yield '\n<h2 id="diagram">Diagram</h2>\n<div class="diagram">\n'
    yield from render_svg(tree, depth, declaration=False)
    yield '</div>\n<h2 id="layers">Layers</h2>\n'
    yield '<p class="sub">click ▸/▾ beside a block to fold or unfold it</p>\n'
    yield (
        '<table id="tree"><thead><tr><th>name</th><th>type</th><th>input</th><th>output</th>'
        '<th class="num">params</th><th class="num">MACs</th><th class="num">FLOPs</th>'
        '<th class="num">MACs %</th><th class="num">memory</th></tr></thead>\n<tbody>\n'
    )
    yield from tree_rows(tree, depth)
    yield "</tbody></table>\n"
    yield f'<script type="application/json" id="cnncalc-totals">{json_for_script(report)}</script>\n'
    yield f"<script>{SCRIPT}</script>\n</body>\n</html>\n"


def json_for_script(report: object) -> str:
    from ..render import totals_object

    text = json.dumps({"model": getattr(report, "model", None), "totals": totals_object(report)})  # type: ignore[arg-type]
    return text.replace("<", "\\u003c")
