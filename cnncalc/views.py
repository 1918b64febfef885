"""A report's rows as a tree of blocks, folded at a depth (SPEC §8).

The tree comes from the dotted row names: ``layer1.0.conv1`` is a leaf in block ``layer1.0``,
itself in block ``layer1``. A block at depth N (``--depth N``) is folded into one row that
carries the subtotals of everything inside; blocks above it stay open and their children
follow. Consecutive sibling copies (integer names, as ``repeat`` and ``nn.Sequential``
number them) that fold to identical rows can be shown once with ``×N``; their figures are
the sum of the copies, so every column still adds up to the totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .graphview import model_inputs, row_sources
from .report import DTYPE_BYTES, Report, Row, Shape

ALL = None
"""``depth=ALL``: nothing folded."""


@dataclass(eq=False, slots=True)
class Node:
    """A leaf row or a block, with the subtotals of the rows inside.

    ``first``/``last`` are positions in ``report.rows`` (0-based, inclusive)."""

    name: str
    short: str
    depth: int
    parent: Node | None
    row: Row | None = None
    first: int = 0
    last: int = 0
    children: list[Node] = field(default_factory=list)
    params: int = 0
    trainable_params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    out_elements: int = 0
    layers: int = 0

    @property
    def is_block(self) -> bool:
        return self.row is None

    def signature(self) -> tuple[object, ...]:
        """What two copies must share to be shown as one ``×N`` row: for a leaf its type,
        shapes, arguments' geometry and counts; for a block its children's short names and
        signatures, in order."""
        row = self.row
        if row is not None:
            return (row.type, row.input_shape, row.input_shapes, row.output_shape, row.params,
                    row.trainable, row.buffers, row.macs, row.flops, row.window)  # fmt: skip
        return tuple((child.short, child.signature()) for child in self.children)


@dataclass(slots=True)
class Tree:
    report: Report
    root: Node
    sources: list[tuple[int | str, ...]]  # per row: positions of the rows read, or input names
    max_depth: int


def numel(shape: Shape) -> int:
    count = 1
    for d in shape:
        count *= d
    return count


def build_tree(report: Report) -> Tree:
    """One pass over the rows in order; a block is the run of consecutive rows under one
    dotted prefix (a prefix that comes back after other rows is a second node)."""
    root = Node(name="", short="", depth=-1, parent=None)
    stack = [root]
    deepest = 0
    for position, row in enumerate(report.rows):
        segments = row.name.split(".")
        keep = 1
        while keep < len(stack) and keep < len(segments) and stack[keep].short == segments[keep - 1]:
            keep += 1
        del stack[keep:]
        for depth in range(keep - 1, len(segments) - 1):
            parent = stack[-1]
            block = Node(
                name=".".join(segments[: depth + 1]), short=segments[depth], depth=depth,
                parent=parent, first=position,
            )  # fmt: skip
            parent.children.append(block)
            stack.append(block)
        leaf = Node(
            name=row.name, short=segments[-1], depth=len(segments) - 1, parent=stack[-1],
            row=row, first=position, last=position,
        )  # fmt: skip
        stack[-1].children.append(leaf)
        deepest = max(deepest, leaf.depth)
        elements = numel(row.output_shape)
        for node in (*stack, leaf):
            node.last = position
            node.params += row.params
            node.trainable_params += row.params if row.trainable else 0
            node.buffers += row.buffers
            node.macs += row.macs
            node.flops += row.flops
            node.out_elements += elements
            node.layers += 1
    root.first, root.last = 0, len(report.rows) - 1
    return Tree(report, root, source_positions(report), deepest)


def source_positions(report: Report) -> list[tuple[int | str, ...]]:
    """Each row's sources as positions of earlier rows (the latest row of that name), or
    the name of a model input. ``NAME.i`` (an output of a split) resolves to ``NAME``."""
    inputs = {name for name, _ in model_inputs(report)}
    seen: dict[str, int] = {}
    out: list[tuple[int | str, ...]] = []
    for position, (row, names) in enumerate(zip(report.rows, row_sources(report))):
        resolved: list[int | str] = []
        for name in names:
            found = seen.get(name)
            if found is None and name not in inputs:
                head, _, tail = name.rpartition(".")
                found = seen.get(head) if tail.isdigit() else None
            resolved.append(name if found is None else found)
        out.append(tuple(resolved))
        seen[row.name] = position
    return out


# ---- folding ------------------------------------------------------------------------------
def folded(node: Node, depth: int | None) -> bool:
    """Whether a block is shown as one row at ``depth``."""
    return node.is_block and depth is not None and node.depth >= depth


def visible(tree: Tree, depth: int | None) -> list[Node]:
    """The rows at ``depth`` in execution order: leaves at or above it and the blocks at it,
    folded. Their figures add up to the totals."""
    out: list[Node] = []

    def walk(node: Node) -> None:
        for child in node.children:
            if child.is_block and not folded(child, depth):
                walk(child)
            else:
                out.append(child)

    walk(tree.root)
    return out


def external_sources(tree: Tree, node: Node) -> list[int | str]:
    """The tensors a node reads from outside itself, in order of first use, without
    repeats: positions of rows, or model input names."""
    found: list[int | str] = []
    for position in range(node.first, node.last + 1):
        for source in tree.sources[position]:
            inside = isinstance(source, int) and node.first <= source <= node.last
            if not inside and source not in found:
                found.append(source)
    return found


def input_shapes(tree: Tree, node: Node) -> list[Shape]:
    """The shapes of the tensors a node reads from outside."""
    shapes = dict(model_inputs(tree.report))
    rows = tree.report.rows
    return [
        shapes.get(s, tree.report.input_shape) if isinstance(s, str) else rows[s].output_shape
        for s in external_sources(tree, node)
    ]


def output_shape(tree: Tree, node: Node) -> Shape:
    return tree.report.rows[node.last].output_shape


def param_bytes(tree: Tree, node: Node) -> int:
    return node.params * DTYPE_BYTES[tree.report.dtype]


def activation_bytes(tree: Tree, node: Node) -> int:
    """The outputs of every row inside, as ``totals.activation_bytes`` counts them (which
    adds the model input once)."""
    return node.out_elements * DTYPE_BYTES[tree.report.dtype]


# ---- lines of a tree table or boxes of a picture: ×N groups --------------------------------
@dataclass(slots=True)
class Line:
    """One line of a tree table: a leaf, a folded block or an open block's header.
    ``copies`` holds more than one node where identical consecutive copies are shown once."""

    copies: list[Node]
    open: bool
    prefix: str = ""

    @property
    def node(self) -> Node:
        return self.copies[0]

    @property
    def short(self) -> str:
        if len(self.copies) == 1:
            return self.node.short
        return f"{self.copies[0].short}–{self.copies[-1].short} ×{len(self.copies)}"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.copies]

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.copies)


def groups(children: list[Node], depth: int | None, repeats: bool) -> Iterator[Line]:
    """Children as lines: a closed row (leaf or folded block) joins the line before it when
    both have integer names, the previous copy's number plus one, and equal signatures."""
    current: Line | None = None
    for child in children:
        is_open = child.is_block and not folded(child, depth)
        if (
            repeats and current is not None and not is_open and not current.open
            and child.short.isdigit() and current.copies[-1].short.isdigit()
            and int(child.short) == int(current.copies[-1].short) + 1
            and child.signature() == current.node.signature()
        ):  # fmt: skip
            current.copies.append(child)
            continue
        if current is not None:
            yield current
        current = Line([child], is_open)
    if current is not None:
        yield current


def tree_lines(tree: Tree, depth: int | None, repeats: bool = True) -> list[Line]:
    """Every line of the tree table at ``depth``, with the drawing of the nesting in
    ``prefix``: top-level rows bare, children under ``├─``/``└─``, with ``│`` continuing
    the lines of ancestors that have more children below."""
    out: list[Line] = []

    def walk(node: Node, lead: str) -> None:
        lines = list(groups(node.children, depth, repeats))
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            if node is tree.root:
                line.prefix, inner = "", ""
            else:
                line.prefix = lead + ("└─ " if last else "├─ ")
                inner = lead + ("   " if last else "│  ")
            out.append(line)
            if line.open:
                walk(line.node, inner)

    walk(tree.root, "")
    return out


def closed_lines(tree: Tree, depth: int | None, repeats: bool = True) -> list[Line]:
    """The lines that are rows (leaves and folded blocks), without open headers: the boxes
    of a picture."""
    return [line for line in tree_lines(tree, depth, repeats) if not line.open]


def depth_for(tree: Tree, fits: int, count_open: bool = True) -> int | None:
    """The deepest depth whose lines number at most ``fits`` (``ALL`` where everything
    fits; depth 0 where nothing does). ``count_open`` counts open headers as lines, as a
    table has them; a picture draws them as frames, not boxes."""
    for depth in (ALL, *range(tree.max_depth - 1, -1, -1)):
        lines = tree_lines(tree, depth)
        count = len(lines) if count_open else sum(1 for line in lines if not line.open)
        if count <= fits:
            return depth
    return 0
