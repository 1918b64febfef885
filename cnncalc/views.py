"""A report's rows as a tree of blocks, folded at a depth.

The tree comes from the dotted row names: ``layer1.0.conv1`` is a leaf in block ``layer1.0``,
itself in block ``layer1``. A block at depth N (``--depth N``) is folded into one row that
carries the subtotals of everything inside; blocks above it stay open and their children
follow. Consecutive sibling copies (integer names, as ``repeat`` and ``nn.Sequential``
number them) that fold to identical rows can be shown once with ``×N``; their figures are
the sum of the copies, so every column still adds up to the totals.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from typing import Any

from .graphview import model_inputs, row_sources
from .report import DTYPE_BYTES, Report, Row, Shape, Sums, sums_of

ALL = None
"""``depth=ALL``: nothing folded."""


# Node and Leaf are plain classes with slots: a large model has one per row, and a plain
# class is defined at start-up in a fraction of a dataclass's time.
class Node:
    """A block: the rows ``first`` to ``last`` (positions in ``rows``, inclusive) whose
    names share its prefix. Its name is read from its first row's and its subtotals are
    summed when first asked for: a model may have a block for every two rows, and most
    blocks of a large table are never folded."""

    __slots__ = ("depth", "parent", "rows", "first", "last", "children", "sums")
    row = None
    is_block = True

    def __init__(self, depth: int, parent: Node | None, rows: list[Row], first: int = 0) -> None:
        self.depth, self.parent, self.rows, self.first, self.last = depth, parent, rows, first, first
        self.children: list[Member] = []
        self.sums: Sums | None = None

    @property
    def name(self) -> str:
        if self.depth < 0:
            return ""
        return ".".join(self.rows[self.first].name.split(".", self.depth + 1)[: self.depth + 1])

    @property
    def short(self) -> str:
        if self.depth < 0:
            return ""
        return self.rows[self.first].name.split(".", self.depth + 1)[self.depth]

    @property
    def layers(self) -> int:
        return self.last - self.first + 1

    @property
    def used(self) -> bool:
        """Whether any output needs something inside."""
        return self.used_layers > 0

    def subtotals(self) -> Sums:
        if self.sums is None:
            self.sums = sums_of(self.rows[self.first : self.last + 1])
        return self.sums

    params = property(lambda self: self.subtotals().params)
    trainable_params = property(lambda self: self.subtotals().trainable_params)
    buffers = property(lambda self: self.subtotals().buffers)
    macs = property(lambda self: self.subtotals().macs)
    flops = property(lambda self: self.subtotals().flops)
    out_elements = property(lambda self: self.subtotals().out_elements)
    used_layers = property(lambda self: self.subtotals().used_layers)
    idle_macs = property(lambda self: self.subtotals().idle_macs)
    idle_flops = property(lambda self: self.subtotals().idle_flops)

    def signature(self) -> tuple[object, ...]:
        """What two copies must share to be shown as one ``×N`` row: a block's children's
        short names and signatures, in order."""
        return tuple((child.short, child.signature()) for child in self.children)


class Leaf:
    """A row in the tree. Its figures are the row's own, read from it: a model has a leaf
    per row, so a leaf holds nothing else. It answers what a ``Node`` answers."""

    __slots__ = ("depth", "parent", "row", "first")
    children = ()
    is_block = False
    layers = 1

    def __init__(self, depth: int, parent: Node, row: Row, first: int) -> None:
        self.depth, self.parent, self.row, self.first = depth, parent, row, first

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def short(self) -> str:
        return self.row.name.rpartition(".")[2]

    @property
    def last(self) -> int:
        return self.first

    @property
    def used(self) -> bool:
        return self.row.used

    @property
    def used_layers(self) -> int:
        return int(self.row.used)

    @property
    def params(self) -> int:
        return self.row.params

    @property
    def trainable_params(self) -> int:
        return self.row.params if self.row.trainable else 0

    @property
    def buffers(self) -> int:
        return self.row.buffers

    @property
    def macs(self) -> int:
        return self.row.macs if self.row.used else 0

    @property
    def flops(self) -> int:
        return self.row.flops if self.row.used else 0

    @property
    def idle_macs(self) -> int:
        return 0 if self.row.used else self.row.macs

    @property
    def idle_flops(self) -> int:
        return 0 if self.row.used else self.row.flops

    @property
    def out_elements(self) -> int:
        row = self.row
        return sum(map(prod, row.output_shapes or (row.output_shape,))) if row.used else 0

    def signature(self) -> tuple[object, ...]:
        """A leaf's type, shapes, arguments' geometry and counts."""
        row = self.row
        return (row.type, row.input_shape, row.input_shapes, row.output_shape, row.params,
                row.trainable, row.buffers, row.macs, row.flops, row.window, row.used,
                row.shares, row.output_shapes)  # fmt: skip


Member = Node | Leaf
"""What a block holds: blocks and leaves."""


@dataclass(eq=False)
class Tree:
    report: Report
    root: Node
    sources: SourcePositions  # per row: positions of the rows read, or input names
    max_depth: int


def build_tree(report: Report) -> Tree:
    """One pass over the rows in order; a block is the run of consecutive rows under one
    dotted prefix (a prefix that comes back after other rows is a second node)."""
    rows = report.rows
    root = Node(depth=-1, parent=None, rows=rows)
    stack = [root]
    shorts = [""]  # the stack's short names
    deepest = 0
    for position, row in enumerate(rows):
        segments = row.name.split(".")
        keep = 1
        while keep < len(stack) and keep < len(segments) and shorts[keep] == segments[keep - 1]:
            keep += 1
        for node in stack[keep:]:
            node.last = position - 1
        del stack[keep:], shorts[keep:]
        for depth in range(keep - 1, len(segments) - 1):
            block = Node(depth=depth, parent=stack[-1], rows=rows, first=position)
            stack[-1].children.append(block)
            stack.append(block)
            shorts.append(segments[depth])
        leaf = Leaf(depth=len(segments) - 1, parent=stack[-1], row=row, first=position)
        stack[-1].children.append(leaf)
        deepest = max(deepest, leaf.depth)
    for node in stack:
        node.last = len(rows) - 1
    root.first, root.last = 0, len(report.rows) - 1
    return Tree(report, root, source_positions(report), deepest)


class SourcePositions:
    """Each row's sources as positions of earlier rows, or names (a model input's): a
    tuple per row, given out on demand from two flat arrays of integers (a name is stored
    as −1 − its index in ``names``), since a large model has hundreds of thousands."""

    __slots__ = ("starts", "values", "names", "codes")

    def __init__(self) -> None:
        self.starts, self.values = array("q", [0]), array("q")
        self.names: list[str] = []
        self.codes: dict[str, int] = {}

    def append(self, sources: list[int | str]) -> None:
        for source in sources:
            if isinstance(source, str):
                code = self.codes.get(source)
                if code is None:
                    self.names.append(source)
                    code = self.codes[source] = -len(self.names)
                source = code
            self.values.append(source)
        self.starts.append(len(self.values))

    def outside(self, first: int, last: int) -> list[int | str]:
        """What rows ``first`` to ``last`` read from before ``first`` (a row reads only
        earlier rows), in order of first use, each once."""
        found: dict[int, None] = {}
        for value in self.values[self.starts[first] : self.starts[last + 1]]:
            if value < first:
                found[value] = None
        return [v if v >= 0 else self.names[-1 - v] for v in found]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, position: int) -> tuple[int | str, ...]:
        values = self.values[self.starts[position] : self.starts[position + 1]]
        return tuple(v if v >= 0 else self.names[-1 - v] for v in values)


def source_positions(report: Report) -> SourcePositions:
    """Each row's sources as positions of earlier rows (the latest row of that name), or
    the name of a model input. ``NAME.i`` (an output of a split) resolves to ``NAME``."""
    inputs = {name for name, _ in model_inputs(report)}
    seen: dict[str, int] = {}
    out = SourcePositions()
    for position, (row, names) in enumerate(zip(report.rows, row_sources(report))):
        resolved: list[int | str] = []
        for name in names:
            found = seen.get(name)
            if found is None and name not in inputs:
                head, _, tail = name.rpartition(".")
                found = seen.get(head) if tail.isdigit() else None
            resolved.append(name if found is None else found)
        out.append(resolved)
        seen[row.name] = position
    return out


# ---- folding ------------------------------------------------------------------------------
def folded(node: Member, depth: int | None) -> bool:
    """Whether a block is shown as one row at ``depth``."""
    return node.is_block and depth is not None and node.depth >= depth


def visible(tree: Tree, depth: int | None) -> list[Member]:
    """The rows at ``depth`` in execution order: leaves at or above it and the blocks at it,
    folded. Their figures add up to the totals."""
    out: list[Member] = []

    def walk(node: Node) -> None:
        for child in node.children:
            if isinstance(child, Node) and not folded(child, depth):
                walk(child)
            else:
                out.append(child)

    walk(tree.root)
    return out


def external_sources(tree: Tree, node: Member) -> list[int | str]:
    """The tensors a node reads from outside itself, in order of first use, without
    repeats: positions of rows, or model input names."""
    return tree.sources.outside(node.first, node.last)


def input_shapes(tree: Tree, node: Member) -> list[Shape]:
    """The shapes of the tensors a node reads from outside."""
    shapes = dict(model_inputs(tree.report))
    rows = tree.report.rows
    return [
        shapes.get(s, tree.report.input_shape) if isinstance(s, str) else rows[s].output_shape
        for s in external_sources(tree, node)
    ]


def output_shape(tree: Tree, node: Member) -> Shape:
    return tree.report.rows[node.last].output_shape


def param_bytes(tree: Tree, node: Member) -> int:
    return node.params * DTYPE_BYTES[tree.report.dtype]


def activation_bytes(tree: Tree, node: Member) -> int:
    """The outputs of every used row inside (each piece of a split), as
    ``totals.activation_bytes`` counts them (which adds the model inputs once)."""
    return node.out_elements * DTYPE_BYTES[tree.report.dtype]


# ---- lines of a tree table or boxes of a picture: ×N groups --------------------------------
@dataclass(eq=False)
class Line:
    """One line of a tree table: a leaf, a folded block or an open block's header.
    ``copies`` holds more than one node where identical consecutive copies are shown once."""

    copies: list[Member]
    open: bool
    prefix: str = ""

    @property
    def node(self) -> Member:
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


def groups(children: list[Member], depth: int | None, repeats: bool) -> Iterator[Line]:
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
    """Every line of the tree table at ``depth`` (see ``iter_tree_lines``)."""
    return list(iter_tree_lines(tree, depth, repeats))


def iter_tree_lines(tree: Tree, depth: int | None, repeats: bool = True) -> Iterator[Line]:
    """The lines of the tree table at ``depth`` in order, made as they are read (a large
    model's lines need not all be held), with the drawing of the nesting in ``prefix``:
    top-level rows bare, children under ``├─``/``└─``, with ``│`` continuing the lines of
    ancestors that have more children below."""

    def opened(node: Node, lead: str) -> list[Any]:
        """A block being walked: its lines, the next one, and the drawing of its lines."""
        lines = groups(node.children, depth, repeats)
        if node is tree.root:
            return [lines, next(lines, None), None, "", ""]
        return [lines, next(lines, None), lead, lead + "├─ ", lead + "└─ "]  # shared by the siblings

    stack = [opened(tree.root, "")]  # a stack, not recursion: a deep tree's lines stay cheap
    while stack:
        walk = stack[-1]
        line = walk[1]
        if line is None:
            stack.pop()
            continue
        walk[1] = after = next(walk[0], None)
        line.prefix = walk[3] if after is not None else walk[4]
        yield line
        if line.open:
            lead = walk[2]
            inner = "" if lead is None else lead + ("│  " if after is not None else "   ")
            stack.append(opened(line.node, inner))  # type: ignore[arg-type]


def closed_lines(tree: Tree, depth: int | None, repeats: bool = True) -> list[Line]:
    """The lines that are rows (leaves and folded blocks), without open headers: the boxes
    of a picture."""
    return [line for line in tree_lines(tree, depth, repeats) if not line.open]


def depth_for(tree: Tree, fits: int, count_open: bool = True) -> int | None:
    """The deepest depth whose lines number at most ``fits`` (``ALL`` where everything
    fits; depth 0 where nothing does). ``count_open`` counts open headers as lines, as a
    table has them; a picture draws them as frames, not boxes."""
    for depth in (ALL, *range(tree.max_depth - 1, -1, -1)):
        count = sum(1 for line in iter_tree_lines(tree, depth) if count_open or not line.open)
        if count <= fits:
            return depth
    return 0
