"""cnncalc draw: the SVG diagram's geometry (read back from the SVG), its content, and the
refusals of bad output paths and models."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import invoke as run

from cnncalc import analyse, load_model
from cnncalc.draw import MAX_BOXES
from cnncalc.draw.svg import render_svg
from cnncalc.views import build_tree, closed_lines, depth_for

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
CHAR = 0.62  # a monospace character's width in font sizes, rounded up
BRANCHING = """\
name: branching <net> & "co"
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
    name: stem
  - parallel:
      branches:
        - [conv2d: {out_channels: 4, kernel_size: 1}]
        - [conv2d: {out_channels: 4, kernel_size: 1}, conv2d: {out_channels: 4, kernel_size: 3, padding: 1}]
        - [maxpool2d: {kernel_size: 3, stride: 1, padding: 1}, conv2d: {out_channels: 4, kernel_size: 1}]
    name: mixed
  - residual:
      body: [conv2d: {out_channels: 12, kernel_size: 3, padding: 1}, relu, conv2d: {out_channels: 12, kernel_size: 3, padding: 1}]
    name: res
  - global_avgpool
  - linear: 10
    name: head
"""



def number(value: str | None) -> float:
    assert value is not None
    return float(value)


def rect_of(element: ET.Element) -> tuple[float, float, float, float]:
    x, y = number(element.get("x")), number(element.get("y"))
    return x, y, x + number(element.get("width")), y + number(element.get("height"))


def text_rect(element: ET.Element, size: float) -> tuple[float, float, float, float]:
    """The box a text can cover: its advance at CHAR per character, from the ascent above
    the baseline to the descent below it."""
    x, y = number(element.get("x")), number(element.get("y"))
    return x, y - size, x + len(element.text or "") * CHAR * size, y + 0.25 * size


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def crosses(p: tuple[float, float], q: tuple[float, float], box: tuple[float, ...]) -> bool:
    """Whether an axis-parallel segment enters a box's interior (its border excluded)."""
    x0, y0, x1, y1 = box[0] + 0.5, box[1] + 0.5, box[2] - 0.5, box[3] - 0.5
    if p[0] == q[0]:
        lo, hi = sorted((p[1], q[1]))
        return x0 < p[0] < x1 and lo < y1 and hi > y0
    assert p[1] == q[1], (p, q)  # edges are made of horizontal and vertical runs
    lo, hi = sorted((p[0], q[0]))
    return y0 < p[1] < y1 and lo < x1 and hi > x0


def check_diagram(text: str) -> dict[str, object]:
    """Parse the SVG and check its geometry; returns what a test may check further."""
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    font = number(root.get("font-size"))
    boxes, names = [], []
    for group in root.iter(f"{SVG}g"):
        if "box" not in (group.get("class") or "").split():
            continue
        rect = rect_of(group.find(f"{SVG}rect"))  # type: ignore[arg-type]
        boxes.append(rect)
        names += json.loads(group.get("data-names") or "[]")
        for t in group.findall(f"{SVG}text"):
            r = text_rect(t, font)
            assert rect[0] <= r[0] and r[2] <= rect[2] and rect[1] <= r[1] and r[3] <= rect[3], (
                f"text {t.text!r} at {r} leaves its box {rect}"
            )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not overlap(a, b), f"boxes {a} and {b} overlap"
    labels = []
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "labels")
    for t in group.findall(f"{SVG}text"):
        r = text_rect(t, number(t.get("font-size")))
        assert not any(overlap(r, b) for b in boxes), f"edge label {t.text!r} over a box"
        assert not any(overlap(r, other) for other in labels), f"edge label {t.text!r} over another"
        labels.append(r)
    for frame in (g for g in root.iter(f"{SVG}g") if g.get("class") == "block"):
        rect = rect_of(frame.find(f"{SVG}rect"))  # type: ignore[arg-type]
        label = frame.find(f"{SVG}text")
        r = text_rect(label, number(label.get("font-size")))  # type: ignore[arg-type]
        assert rect[0] <= r[0] and r[2] <= rect[2] and rect[1] <= r[1], f"frame label {label.text!r} outside"  # type: ignore[union-attr]
        assert not any(overlap(r, b) for b in boxes), f"frame label {label.text!r} over a box"  # type: ignore[union-attr]
        assert not any(overlap(r, other) for other in labels), f"frame label {label.text!r} over an edge label"  # type: ignore[union-attr]
    frames = [rect_of(g.find(f"{SVG}rect")) for g in root.iter(f"{SVG}g") if g.get("class") == "block"]  # type: ignore[arg-type]
    for i, a in enumerate(frames):  # frames nest or stand apart, never cut across each other
        for b in frames[i + 1:]:
            inside = (a[0] <= b[0] and a[1] <= b[1] and b[2] <= a[2] and b[3] <= a[3]) or (
                b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3])
            assert inside or not overlap(a, b), f"frames {a} and {b} cut across each other"
        assert not any(overlap(a, box) and not (a[0] <= box[0] and a[1] <= box[1] and box[2] <= a[2] and box[3] <= a[3]) for box in boxes), "a frame cuts a box"
    edges = list(root.iter(f"{SVG}polyline"))
    for edge in edges:
        points = [tuple(map(float, p.split(","))) for p in (edge.get("points") or "").split()]
        for p, q in zip(points, points[1:]):
            hit = [b for b in boxes if crosses(p, q, b)]  # type: ignore[arg-type]
            assert not hit, f"edge segment {p}-{q} crosses box {hit[0]}"
    return {"names": names, "boxes": boxes, "edges": edges, "root": root}


def row_names(config: str, depth: int | None) -> list[str]:
    tree = build_tree(analyse(load_model(config)))
    return [name for line in closed_lines(tree, depth) for name in line.names]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_config_draws_readably_at_the_default_depth(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.svg"
    result = run("draw", str(config), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    tree = build_tree(analyse(load_model(str(config))))
    depth = depth_for(tree, MAX_BOXES, count_open=False)
    found = check_diagram(out.read_text())
    expected = row_names(str(config), depth)
    assert sorted(found["names"]) == sorted(expected)  # type: ignore[arg-type]
    assert len(set(expected)) == len(expected)  # so each appears exactly once
    assert len(closed_lines(tree, depth)) <= MAX_BOXES or depth == 0
    # one edge a tensor read, plus the output's
    boxes = [g for g in found["root"].iter(f"{SVG}g") if "box" in (g.get("class") or "").split()]  # type: ignore[union-attr]
    assert boxes[0].get("data-kind") == "input" and boxes[-1].get("data-kind") == "output"


@pytest.mark.parametrize("name", ["resnet50", "unet", "mobilenetv2"])
def test_big_configs_draw_every_layer_readably(name: str) -> None:
    config = str(CONFIGS[0].parent / f"{name}.yaml")
    text = "".join(render_svg(build_tree(analyse(load_model(config))), None))
    found = check_diagram(text)
    assert found["names"] == row_names(config, None)


def test_branches_skips_and_escaping(tmp_path: Path) -> None:
    path = tmp_path / "branching.yaml"
    path.write_text(BRANCHING)
    result = run("draw", str(path), "--depth", "all", "-o", "-")
    assert result.exit_code == 0, result.output
    found = check_diagram(result.stdout)
    assert "<title>branching &lt;net&gt; &amp; \"co\"</title>" in result.stdout
    assert found["names"] == row_names(str(path), None)
    edges = found["edges"]
    # the three branches leave the stem side by side: three lanes at one rank
    boxes = found["boxes"]
    tops = {}
    for b in boxes:  # type: ignore[attr-defined]
        tops.setdefault(b[1], []).append(b)
    assert max(len(v) for v in tops.values()) == 3
    skips = [e for e in edges if "skip" in (e.get("class") or "")]  # type: ignore[attr-defined]
    assert len(skips) == 1  # the residual's identity edge goes around its body
    # one edge a tensor read: input→stem, stem→3 branches, 2 inside branches, 3 into the
    # concat, 3 along the residual body, 2 into its add, then pool, head and the output
    assert len(edges) == 1 + 3 + 2 + 3 + 3 + 2 + 1 + 1 + 1  # type: ignore[arg-type]


def test_depth_zero_shows_top_level_blocks_as_boxes_and_times_n() -> None:
    config = str(CONFIGS[0].parent / "resnet18.yaml")
    tree = build_tree(analyse(load_model(config)))
    text = "".join(render_svg(tree, 0))
    found = check_diagram(text)
    assert found["names"] == [n.name for line in closed_lines(tree, 0) for n in line.copies]
    # identical consecutive copies (the stages' repeated blocks) are drawn once, as ×N
    depth = next(d for d in range(tree.max_depth) if any(len(line.copies) > 1 for line in closed_lines(tree, d)))
    repeated = [line for line in closed_lines(tree, depth) if len(line.copies) > 1]
    drawn = "".join(render_svg(tree, depth))
    found = check_diagram(drawn)
    assert drawn.count(f"block  ×{len(repeated[0].copies)}<") >= 1
    assert found["names"] == [n.name for line in closed_lines(tree, depth) for n in line.copies]
    assert "params 11,689,512 (11.7 M)" in text and "MACs 1,814,073,344 (1.81 G)" in text


def test_bad_outputs_exit_2_and_write_nothing(tmp_path: Path) -> None:
    model = str(CONFIGS[0].parent / "lenet5.yaml")
    result = run("draw", model, "-o", str(tmp_path / "x.png"))
    assert result.exit_code == 2
    assert "extension '.png'; use .svg or .html (or - for SVG on standard output)" in result.stderr
    missing = tmp_path / "no" / "such" / "x.svg"
    result = run("draw", model, "-o", str(missing))
    assert result.exit_code == 2
    assert f"error: cannot write {missing}: No such file or directory" in result.stderr
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    result = run("draw", model, "-o", str(a_file / "x.svg"))
    assert result.exit_code == 2
    assert f"error: cannot write {a_file / 'x.svg'}: Not a directory" in result.stderr
    folder = tmp_path / "folder.svg"
    folder.mkdir()
    result = run("draw", model, "-o", str(folder))
    assert result.exit_code == 2
    assert f"error: cannot write {folder}: is a directory" in result.stderr
    assert "no extension; use .svg" in run("draw", model, "-o", str(tmp_path / "x")).stderr
    assert "Traceback" not in result.output


def test_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    model = str(CONFIGS[0].parent / "lenet5.yaml")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: nothing to refuse
            pytest.skip("running as a user that may write into a read-only directory")
        result = run("draw", model, "-o", str(locked / "x.svg"))
        assert result.exit_code == 2 and "Permission denied" in result.stderr
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


def test_a_model_that_fails_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "x.svg"
    out.write_text("before")
    result = run("draw", "--input", "3x8x8", "conv2d(4, 3) -> conv2d(4, 7)", "-o", str(out))
    assert result.exit_code == 2
    assert "kernel" in result.stderr and "nothing drawn" in result.stderr
    assert out.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["x.svg"]  # no temporary file left


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "x.svg"
    out.write_text("old")
    assert run("draw", "--input", "3x8x8", "conv2d(4, 3)", "-o", str(out)).exit_code == 0
    ET.fromstring(out.read_text())
    assert [p.name for p in tmp_path.iterdir()] == ["x.svg"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_the_page_chart_covers_the_whole_model(config: Path) -> None:
    from cnncalc.draw.html import CHART_ROWS, chart_nodes

    report = analyse(load_model(str(config)))
    tree = build_tree(report)
    nodes, _ = chart_nodes(tree)
    assert sum(n.macs for n in nodes) == report.totals.macs
    assert sum(n.params for n in nodes) == report.totals.params
    assert sum(n.layers for n in nodes) == len(report.rows)
    assert len(nodes) <= max(CHART_ROWS, len(tree.root.children))
    # no row holds more than half the MACs where it could be opened within the limit
    big = max(nodes, key=lambda n: n.macs)
    assert not (big.is_block and 2 * big.macs > report.totals.macs
                and len(nodes) - 1 + len(big.children) <= CHART_ROWS)  # fmt: skip


def test_several_outputs_each_get_a_box(monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout takes the model's outputs from graphview; with two (an aux head's and the
    last row's) it draws two output boxes, each fed by its row, and stays readable."""
    import cnncalc.draw.layout as layout

    report = analyse(load_model(str(CONFIGS[0].parent / "resnet18.yaml")))
    aux = next(r for r in report.rows if r.name == "maxpool")
    monkeypatch.setattr(layout, "model_outputs", lambda rep: [
        (rep.rows[-1].name, rep.output_shape), (aux.name, aux.output_shape)])  # fmt: skip
    text = "".join(render_svg(build_tree(report), 0))
    found = check_diagram(text)
    outputs = [g for g in found["root"].iter(f"{SVG}g") if g.get("data-kind") == "output"]  # type: ignore[union-attr]
    assert [o.findall(f"{SVG}text")[-1].text for o in outputs] == ["[1, 1000]", "[1, 64, 56, 56]"]
