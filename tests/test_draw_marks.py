"""cnncalc draw: shared uses and unused rows drawn apart from the others (read back from the
SVG: on exactly which boxes, with which texts, and what the legend says), and edges that
cross neither boxes nor, for FPN- and U-Net-like graphs, each other."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_draw import CONFIGS, SVG, check_diagram, rect_of

from cnncalc import analyse, load_model
from cnncalc.draw.svg import MARK_LEGEND, render_svg
from cnncalc.text import human
from cnncalc.views import build_tree

AUX = """\
name: aux head
input: [3, 32, 32]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
    name: stem
  - sequential:
      - conv2d: {out_channels: 4, kernel_size: 1}
      - relu: {}
    name: aux
  - sequential:
      - conv2d: {out_channels: 8, kernel_size: 3}
        from: stem
        name: conv
      - conv2d: {out_channels: 2, kernel_size: 1}
        name: probe
      - relu: {}
        from: conv
        name: act
    name: trunk
  - global_avgpool: {}
    name: pool
  - linear: 10
    name: head
outputs: [head]
"""


def drawing(config: str | Path, depth: int | None) -> ET.Element:
    text = "".join(render_svg(build_tree(analyse(load_model(str(config)))), depth))
    return check_diagram(text)["root"]  # type: ignore[return-value]


def boxes(root: ET.Element) -> list[tuple[list[str], set[str], list[str]]]:
    """Each box: its row names, its classes, its lines of text."""
    out = []
    for g in root.iter(f"{SVG}g"):
        classes = set((g.get("class") or "").split())
        if "box" in classes:
            out.append((json.loads(g.get("data-names") or "[]"), classes,
                        [t.text or "" for t in g.findall(f"{SVG}text")]))  # fmt: skip
    return out


def legend(root: ET.Element) -> list[str]:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    return [t.text or "" for t in group.findall(f"{SVG}text")]


def marked(root: ET.Element, mark: str) -> dict[str, list[str]]:
    """The first row name of every box with ``mark`` among its classes, with its texts."""
    return {names[0]: texts for names, classes, texts in boxes(root) if mark in classes}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return path


def test_the_siamese_second_tower_is_marked_shared_row_by_row() -> None:
    config = CONFIGS[0].parent / "siamese.yaml"
    report = analyse(load_model(str(config)))
    root = drawing(config, None)
    shared = marked(root, "shared")
    assert sorted(shared) == [f"tower_right.{i}" for i in range(9)]
    for i in range(9):
        texts = shared[f"tower_right.{i}"]
        assert texts[-1] == f"shares tower.{i}"
        has_weights = next(r for r in report.rows if r.name == f"tower.{i}").params > 0
        assert texts[-2].startswith("params shared" if has_weights else "params 0"), texts
    assert [i for i in range(9) if "params shared" in shared[f"tower_right.{i}"][-2]] == [0, 3, 7]
    # the first tower counts its own params, nothing else is marked
    tower0 = next(t for names, _, t in boxes(root) if names == ["tower.0"])
    assert "params 832 · MACs 2.88 M" in tower0 and not any(t.startswith("shares") for t in tower0)
    assert marked(root, "unused") == {}
    assert MARK_LEGEND["shared"] in legend(root) and MARK_LEGEND["unused"] not in legend(root)


def test_a_folded_shared_block_shares_the_block() -> None:
    root = drawing(CONFIGS[0].parent / "siamese.yaml", 0)
    shared = marked(root, "shared")
    assert list(shared) == ["tower_right"]
    assert shared["tower_right"][-2:] == ["params shared · MACs 18.9 M", "shares tower"]
    fpn = marked(drawing(CONFIGS[0].parent / "fpn_detector.yaml", 0), "shared")
    assert sorted(fpn) == ["head2", "head3"]
    assert all(texts[-1] == "shares head" for texts in fpn.values())


def test_the_fpn_heads_share_the_first_head() -> None:
    root = drawing(CONFIGS[0].parent / "fpn_detector.yaml", None)
    shared = marked(root, "shared")
    assert sorted(shared) == sorted(f"{head}.{i}" for head in ("head2", "head3") for i in range(3))
    assert all(shared[name][-1] == "shares head." + name[-1] for name in shared)
    assert not any(name.startswith("head.") for name in shared)


def test_unused_rows_are_grey_with_their_macs_in_parentheses(tmp_path: Path) -> None:
    path = write(tmp_path, AUX)
    report = analyse(load_model(str(path)))
    assert [r.name for r in report.unused] == ["aux.0", "aux.1", "trunk.probe"]
    root = drawing(path, None)
    unused = marked(root, "unused")
    assert sorted(unused) == ["aux.0", "aux.1", "trunk.probe"]
    for row in report.unused:
        texts = unused[row.name]
        assert texts[-1] == "unused: no output"
        assert (f" · MACs ({human(row.macs)})" in texts[-2]) == (row.macs > 0), texts
    # an edge from an unused row is dotted grey: aux.0 into aux.1, nothing else
    dotted = [e for e in root.iter(f"{SVG}polyline") if "unused" in (e.get("class") or "").split()]
    assert len(dotted) == 1
    (x0, y0), *_, (x1, y1) = [tuple(map(float, p.split(","))) for p in (dotted[0].get("points") or "").split()]
    rects = {json.loads(g.get("data-names") or "[]")[0]: rect_of(g.find(f"{SVG}rect"))  # type: ignore[arg-type]
             for g in root.iter(f"{SVG}g") if g.get("data-kind") == "row"}  # fmt: skip
    source, target = rects["aux.0"], rects["aux.1"]
    assert source[0] < x0 < source[2] and y0 == source[3]
    assert target[0] < x1 < target[2] and y1 == target[1]
    assert marked(root, "shared") == {}
    assert MARK_LEGEND["unused"] in legend(root) and MARK_LEGEND["shared"] not in legend(root)


def test_a_folded_block_says_how_much_of_it_is_unused(tmp_path: Path) -> None:
    root = drawing(write(tmp_path, AUX), 0)
    unused = marked(root, "unused")
    assert list(unused) == ["aux"]  # wholly unused: grey
    assert unused["aux"][-1] == "unused: no output"
    trunk = next(texts for names, classes, texts in boxes(root) if names == ["trunk"])
    assert "unused" not in next(c for n, c, _ in boxes(root) if n == ["trunk"])
    assert trunk[-1] == "1 of 3 layers unused"


def test_a_model_without_marks_has_no_mark_in_the_legend() -> None:
    root = drawing(CONFIGS[0].parent / "resnet18.yaml", 1)
    assert marked(root, "shared") == {} and marked(root, "unused") == {}
    assert not set(MARK_LEGEND.values()) & set(legend(root))


# ---- crossings ----------------------------------------------------------------------------
Segment = tuple[tuple[float, float], tuple[float, float]]


def polylines(root: ET.Element) -> list[tuple[bool, list[Segment]]]:
    """Each edge: whether it is a skip, and its segments."""
    out = []
    for edge in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in (edge.get("points") or "").split()]
        out.append(("skip" in (edge.get("class") or "").split(), list(zip(points, points[1:]))))
    return out  # type: ignore[return-value]


def cross(a: Segment, b: Segment) -> bool:
    """Whether a horizontal and a vertical segment cross inside both (a touch at an end,
    where edges fan out or merge, is not a crossing)."""
    (p, q), (r, s) = a, b
    if p[1] == q[1] and r[0] == s[0]:
        return cross(b, a)
    if not (p[0] == q[0] and r[1] == s[1]):
        return False
    x, y = p[0], r[1]
    return min(p[1], q[1]) < y < max(p[1], q[1]) and min(r[0], s[0]) < x < max(r[0], s[0])


def crossings(root: ET.Element) -> tuple[int, int]:
    """(crossings between any two edges, crossings between two skips)."""
    edges = polylines(root)
    every = skips = 0
    for i, (skip_a, a) in enumerate(edges):
        for skip_b, b in edges[i + 1:]:
            n = sum(cross(s, t) for s in a for t in b)
            every += n
            skips += n if skip_a and skip_b else 0
    return every, skips


def test_the_crossing_count_sees_a_crossing() -> None:
    assert cross(((5, 0), (5, 10)), ((0, 5), (10, 5)))
    assert not cross(((5, 0), (5, 10)), ((5, 10), (10, 10)))  # meeting at an end
    assert not cross(((5, 0), (5, 10)), ((6, 5), (10, 5)))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
@pytest.mark.parametrize("depth", [0, None], ids=["depth0", "all"])
def test_no_edge_crosses_a_box_and_no_skip_another(config: Path, depth: int | None) -> None:
    root = drawing(config, depth)  # check_diagram: no segment enters a box, nothing overlaps
    assert crossings(root)[1] == 0


# every depth of these draws without one crossing; the FPN's skips never cross each other
NO_CROSSINGS = ["unet", "resnet18", "resnet50", "mobilenetv2", "convnext_tiny", "shufflenetv2", "siamese"]


@pytest.mark.parametrize("name", NO_CROSSINGS)
def test_skip_graphs_draw_without_crossings(name: str) -> None:
    config = CONFIGS[0].parent / f"{name}.yaml"
    tree = build_tree(analyse(load_model(str(config))))
    for depth in (None, *range(tree.max_depth)):
        root = check_diagram("".join(render_svg(tree, depth)))["root"]
        assert crossings(root) == (0, 0), (name, depth)  # type: ignore[arg-type]


def test_the_fpn_skips_do_not_cross_each_other() -> None:
    """Its laterals and top-down path are skips that nest; what crosses is a short edge
    whose two ends lie on either side of a skip's run (p3 into the third head, right of
    the laterals; a lateral read for its size across the path of the one below it)."""
    config = CONFIGS[0].parent / "fpn_detector.yaml"
    tree = build_tree(analyse(load_model(str(config))))
    for depth in (None, 0, 1):
        every, skips = crossings(check_diagram("".join(render_svg(tree, depth)))["root"])  # type: ignore[arg-type]
        assert skips == 0, depth
        assert every <= 6, (depth, every)


def test_the_legend_names_every_input_and_output_of_a_graph() -> None:
    siamese = legend(drawing(CONFIGS[0].parent / "siamese.yaml", 0))[1]
    assert siamese.startswith("inputs left [1, 1, 64, 64] & right [1, 1, 64, 64] → output [1, 1] · ")
    fpn = legend(drawing(CONFIGS[0].parent / "fpn_detector.yaml", 0))[1]
    assert fpn.startswith(
        "input [1, 3, 128, 128] → outputs head [1, 18, 32, 32] & head2 [1, 18, 16, 16] & head3 [1, 18, 8, 8] · "
    )
    assert legend(drawing(CONFIGS[0].parent / "resnet18.yaml", 0))[1].startswith(
        "input [1, 3, 224, 224] → output [1, 1000] · depth 0 (deepest 3) · 69 layers")


def page_rows(config: str | Path) -> dict[str, tuple[set[str], str]]:
    """The page's table rows by name: their classes and their HTML."""
    from cnncalc.draw.html import render_html

    text = "".join(render_html(build_tree(analyse(load_model(str(config)))), None))
    found = re.findall(r'<tr class="([^"]*)" data-depth="\d+" data-name="([^"]*)"(.*?)</tr>', text)
    return {name: (set(classes.split()), body) for classes, name, body in found}


def test_the_page_table_marks_shared_and_unused_rows(tmp_path: Path) -> None:
    rows = page_rows(CONFIGS[0].parent / "siamese.yaml")
    assert sorted(n for n, (c, _) in rows.items() if "shared" in c) == [f"tower_right.{i}" for i in range(9)]
    assert '<td class="num">0 (shares tower.3)</td>' in rows["tower_right.3"][1]
    assert not any("unused" in c for c, _ in rows.values())
    rows = page_rows(write(tmp_path, AUX))
    assert sorted(n for n, (c, _) in rows.items() if "unused" in c) == ["aux", "aux.0", "aux.1", "trunk.probe"]
    assert '<td class="num">(32,768, unused)</td>' in rows["aux.0"][1]
    assert '<td class="num">(14,400, unused)</td>' in rows["trunk.probe"][1]
    assert "unused" not in rows["trunk"][0] and not any("shared" in c for c, _ in rows.values())
    assert '<td class="num">518,400 (+14,400 unused)</td>' in rows["trunk"][1]  # as the text table
