"""The model as a graph of named tensors, and shape propagation through it.

Every entry reads tensors (the previous entry's output, or what ``from:`` names) and makes
one (or the pieces of a split). ``residual`` and ``parallel`` blocks are shorthand: each
branch reads the block input, then a merge row reads every branch's output. Propagation
walks the entries once, in order, making one row per leaf layer and merge, one ``Step``
(the tensors it reads and makes) per row, and the receptive field (Araujo et al., Distill
2019) of every tensor along each spatial dimension:
    r_out = r_in + (dilation·(k − 1))·j_in,  j_out = j_in·stride,  start_out = start_in − pad_left·j_in
Where paths meet (a merge), the field is the union of the fields read.

Names (the README's naming rules): explicit names win; unnamed entries of a ``sequential:`` block are
numbered 0, 1, … as ``nn.Sequential`` numbers its children; elsewhere TYPE + position
(``conv2d1``). An unnamed residual/parallel block or defined-block use adds no path segment
where the names inside stay unique in the enclosing list.

Scopes: a name refers to an earlier entry of the same list or an enclosing one; a dotted
path reaches into an earlier block (``backbone.layer2``), a copy of a repeat or a piece of
a split (``NAME.1``); a defined block sees only its own entries and ``input``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .errors import CnncalcError, LimitError, Location, ShapeError, SpecError
from .layers import LayerType, Window, find_type, show_shape
from .layers.merge import MergeLayer, SplitLayer
from .limits import MAX_DIMENSION, MAX_LAYERS
from .model import BlockNode, FailedNode, LayerNode, Model, Node, ShareNode, collector_paused
from .model.nodes import OWN_NAME
from .report import DTYPE_BYTES, Graph, Report, Row, Steps, Tensor, totals_of

Shape = tuple[int, ...]
# Per spatial dimension (size, jump, start) of the field of the first output element.
Field = tuple[tuple[int, int, int], ...] | None
# A layer on one input: output shape, params, buffers, MACs, FLOPs, window.
Counts = tuple[Shape, int, int, int, int, Window | None]
MAX_LISTED_NAMES = 30  # names in scope an error lists
MAX_SUGGESTION_POOL = 5000  # names searched for "did you mean"


def apply_window(field: Field, window: Window) -> Field:
    if field is None or len(field) != len(window.kernel):
        return None
    return tuple(
        (r + d * (k - 1) * j, j * s, start - left * j)
        for (r, j, start), k, s, left, d in zip(
            field, window.kernel, window.stride, window.pad_left, window.dilation, strict=True
        )
    )


def row_field(field: Field, out: Shape) -> Field:
    """A row's field: None where the output has no spatial dimensions or the field is
    unknown."""
    if field is None or len(out) < 3 or len(field) != len(out) - 2:
        return None
    return field


def union(fields: list[Field]) -> Field:
    first = fields[0]
    if all(f == first for f in fields):  # paths with one field (a skip around pointwise layers)
        return first
    if any(f is None for f in fields) or len({len(f) for f in fields}) != 1:  # type: ignore[arg-type]
        return None
    merged = []
    for per_dim in zip(*fields, strict=True):  # type: ignore[misc]
        start = min(s for _, _, s in per_dim)
        end = max(s + r - 1 for r, _, s in per_dim)
        merged.append((end - start + 1, max(j for _, j, _ in per_dim), start))
    return tuple(merged)


# ---- tensors and scopes ------------------------------------------------------------------
class Flow:
    """A tensor on its way through the graph: id, name (what ``from`` shows), shape, field."""

    __slots__ = ("id", "name", "shape", "field")

    def __init__(self, id: int, name: str, shape: Shape, field: Field) -> None:
        self.id, self.name, self.shape, self.field = id, name, shape, field


class Pieces(tuple):  # type: ignore[type-arg]
    """The outputs of a split: a tuple of Flows, even of one piece (``torch.split`` returns
    a tuple whatever its length)."""


Value = tuple[Flow, ...]  # one tensor, or the Pieces of a split


class Entry:
    """What a name in scope stands for: an entry's output, and for a block its own names,
    for a repeat its copies (where a dotted name may reach them); the rows its first use
    made and how many copies it stands for (for ``share:``)."""

    __slots__ = ("value", "node", "children", "copies", "rows", "position", "repeat")

    def __init__(
        self, value: Value, node: Node | None, children: Scope | None = None,
        copies: list[Entry] | None = None, rows: tuple[int, int] = (0, 0), position: int = -1,
        repeat: int = 1,
    ) -> None:  # fmt: skip
        self.value, self.node, self.children = value, node, children
        self.copies, self.rows, self.position, self.repeat = copies, rows, position, repeat


class Ambiguous:
    """A name two entries of one list carry; naming it is an error."""

    __slots__ = ("positions",)

    def __init__(self, positions: list[int]) -> None:
        self.positions = positions


class Scope:
    """The names of one list of entries. ``parent`` is the enclosing list (None at the top
    and in a defined block); ``listing`` holds the list's names, for errors about later
    entries."""

    __slots__ = ("names", "inputs", "parent", "listing", "position")

    def __init__(self, parent: Scope | None) -> None:
        self.names: dict[str, Entry | Ambiguous] = {}
        self.inputs: dict[str, Entry] = {}  # the model's inputs, or a defined block's input
        self.parent = parent
        self.listing: list[tuple[str, bool]] = []
        self.position = 0

    def add(self, name: str, entry: Entry) -> None:
        known = self.names.get(name)
        if known is None or (isinstance(known, Entry) and known.position == entry.position):
            self.names[name] = entry
        elif isinstance(known, Ambiguous):
            known.positions.append(entry.position)
        else:
            self.names[name] = Ambiguous([known.position, entry.position])

    def chain(self) -> list[Scope]:
        scopes: list[Scope] = []
        scope: Scope | None = self
        while scope is not None:
            scopes.append(scope)
            scope = scope.parent
        return scopes


def references(model: Model) -> tuple[bool, bool]:
    """Whether the model refers to entries by name at all (``from:``, ``size_of:``,
    ``share:``, ``outputs:``), and whether some such name is a dotted path."""
    named = bool(model.outputs)
    if any("." in ref for ref in model.outputs or ()):
        return True, True
    pending: list[list[Node]] = [model.layers]
    while pending:
        for node in pending.pop():
            if node.sources is not None:
                named = True
                if any("." in ref for ref in node.sources):
                    return True, True
            if node.share is not None:
                named = True
                if "." in node.share:
                    return True, True
            if isinstance(node, LayerNode):
                if node.size_of is not None:
                    named = True
                    if "." in node.size_of:
                        return True, True
            elif isinstance(node, BlockNode):
                pending.extend(node.branches)
    return named, False


def flattenable(node: Node) -> bool:
    """An unnamed residual/parallel block or defined-block use, which may add no segment."""
    return (
        node.name is None
        and node.repeat == 1
        and isinstance(node, BlockNode)
        and (node.defined or node.kind in ("residual", "parallel"))
        and node.rows > 0
    )


class Propagation:
    def __init__(self, model: Model, batch: int) -> None:
        self.model = model
        self.batch = batch
        self.rows: list[Row] = []
        self.steps = Steps(self.rows)
        self.known: dict[tuple[LayerType, Shape], Counts] = {}
        self.naming: dict[int, list[tuple[str, bool]]] = {}
        self.tensors = 0
        self.merges: dict[str, LayerType] = {}
        self.sized: dict[tuple[int, Shape], LayerType] = {}
        # Shared uses being made: for each, the rows of the first use, in order.
        self.sharing: list[tuple[str, list[Row], list[int], int | None]] = []
        self.module_params: dict[int, int] = {}  # row index -> params its module holds
        self.root: dict[int, int] = {}  # a shared use's row index -> the first use's
        # Whether any name is looked up: only then do entries go into their scope's names;
        # and whether a dotted name (``block.0.conv``) may reach inside a block: only then
        # do blocks keep their names and repeats their copies once walked.
        self.named, self.paths = references(model)
        self.last_prefix, self.last_parent = "", None

    def parent(self, prefix: str) -> str | None:
        """The enclosing block's name: one string for all the rows of a block."""
        if prefix is not self.last_prefix:
            self.last_prefix, self.last_parent = prefix, prefix[:-1] or None
        return self.last_parent

    def fail(self, error: CnncalcError, name: str, line: int | None) -> CnncalcError:
        return error.with_location(
            source=self.model.source, line=line, index=len(self.rows) + 1, layer=name
        )

    def flow(self, name: str, shape: Shape, field: Field) -> Flow:
        made = Flow(self.tensors, name, shape, field)
        self.tensors += 1
        return made

    # ---- names ----------------------------------------------------------------------------
    def names(self, nodes: list[Node], numbered: bool) -> list[tuple[str, bool]]:
        """Each entry's own name, and whether it is a block that adds no path segment."""
        known = self.naming.get(id(nodes))
        if known is not None:
            return known
        bases = [
            node.name if node.name is not None
            else str(position) if numbered
            else f"{node.type_name}{position + 1}"
            for position, node in enumerate(nodes)
        ]  # fmt: skip
        inner = [
            self.inner_names(node) if isinstance(node, BlockNode) and flattenable(node) else None
            for node in nodes
        ]
        if all(names is None for names in inner):  # no block that might add no segment
            result = [(base, False) for base in bases]
        else:
            counts = Counter(
                name for base, names in zip(bases, inner, strict=True) for name in (names or [base])
            )
            result = [
                (base, names is not None and all(counts[n] == 1 for n in names))
                for base, names in zip(bases, inner, strict=True)
            ]
        self.naming[id(nodes)] = result
        return result

    def inner_names(self, node: BlockNode) -> list[str]:
        """The first segments of the names a block's rows would have without its own."""
        names: list[str] = []
        for branch in node.branches:
            numbered = node.kind == "sequential" and not node.defined
            for (base, flat), child in zip(self.names(branch, numbered), branch, strict=True):
                names.extend(self.inner_names(child) if flat else [base])  # type: ignore[arg-type]
        if node.merge is not None:
            names.append(node.merge)
        return names

    # ---- looking names up ---------------------------------------------------------------
    def lookup(self, ref: str, scope: Scope, what: str = "from") -> Entry:
        """The entry ``ref`` names: a name in scope, or a dotted path into one."""
        found = self.plain(ref, scope, what)
        if found is not None:
            return found
        segments = ref.split(".")
        for cut in range(len(segments) - 1, 0, -1):
            head = ".".join(segments[:cut])
            entry = self.plain(head, scope, what)
            if entry is not None:
                return self.descend(entry, head, segments[cut:], ref, what)
        raise self.unknown(ref, scope, what)

    def plain(self, name: str, scope: Scope, what: str) -> Entry | None:
        level: Scope | None = scope
        while level is not None:
            entry = level.names.get(name) or level.inputs.get(name)
            if isinstance(entry, Ambiguous):
                listed = ", ".join(str(p + 1) for p in entry.positions)
                raise SpecError(
                    f"{what} {name}: the name is ambiguous: entries {listed} of one list are "
                    "all called that; give them distinct names"
                )
            if entry is not None:
                return entry
            level = level.parent
        return None

    def descend(self, entry: Entry, head: str, rest: list[str], ref: str, what: str) -> Entry:
        path = head
        for i, segment in enumerate(rest):
            last = i == len(rest) - 1
            children = entry.children.names if entry.children is not None else {}
            child = children.get(segment)
            if isinstance(child, Entry):
                entry = child
            elif entry.copies is not None and segment.isdigit():
                index = int(segment)
                if index >= len(entry.copies):
                    raise SpecError(
                        f"{what} {ref}: {path} has {len(entry.copies)} copies "
                        f"({path}.0 … {path}.{len(entry.copies) - 1})"
                    )
                entry = entry.copies[index]
            elif isinstance(entry.value, Pieces) and segment.isdigit() and last:
                index = int(segment)
                if index >= len(entry.value):
                    pieces = ", ".join(f"{path}.{n}" for n in range(len(entry.value)))
                    raise SpecError(
                        f"{what} {ref}: {path} has {len(entry.value)} pieces ({pieces}); "
                        f"there is no piece {index}"
                    )
                return Entry((entry.value[index],), None)
            elif segment.isdigit() and last and entry.node is not None and not children:
                raise SpecError(
                    f"{what} {ref}: {path} is one tensor, not a split or a repeat; "
                    f"there is no piece {segment}"
                )
            else:
                inside = [n for n in children if isinstance(children[n], Entry)]
                listed = ", ".join(inside[:MAX_LISTED_NAMES]) or "no names"
                import difflib

                close = difflib.get_close_matches(segment, inside, 1)
                hint = f" (did you mean {path}.{close[0]}?)" if close else ""
                raise SpecError(f"{what} {ref}: {path} has no {segment!r}{hint}; it has {listed}")
            path = f"{path}.{segment}"
        return entry

    def unknown(self, ref: str, scope: Scope, what: str) -> SpecError:
        head = ref.split(".")[0]
        for level in scope.chain():
            later = [
                (position, base) for position, (base, _) in enumerate(level.listing)
                if position >= level.position and base in (ref, head)
            ]  # fmt: skip
            if later:
                position, base = later[0]
                if position == level.position:
                    return SpecError(f"{what} {ref}: an entry cannot read itself (a cycle)")
                return SpecError(
                    f"{what} {ref}: {base} is entry {position + 1} of its list, after this one "
                    f"(entry {level.position + 1}); a name refers to an earlier entry, so the "
                    "graph has no cycles"
                )
        in_scope: list[str] = []
        for level in reversed(scope.chain()):
            in_scope.extend(level.inputs)
            in_scope.extend(n for n in level.names if isinstance(level.names[n], Entry))
        pool = in_scope[-MAX_SUGGESTION_POOL:]
        import difflib

        close = difflib.get_close_matches(ref, pool, 1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        shown = in_scope if len(in_scope) <= MAX_LISTED_NAMES else ["…", *in_scope[-MAX_LISTED_NAMES:]]
        return SpecError(
            f"{what} {ref}: no such name in scope{hint}; names in scope: {', '.join(shown)}"
        )

    def read(self, sources: tuple[str, ...], scope: Scope) -> Value:
        """The tensors an entry's ``from:`` names (without one it reads the previous
        entry's output)."""
        values = [self.lookup(ref, scope).value for ref in sources]
        if len(values) == 1:
            return values[0]
        return tuple(flow for value in values for flow in value)

    # ---- walking the entries ------------------------------------------------------------
    def sequence(
        self, nodes: list[Node], x: Value, prefix: str, depth: int, trainable: bool,
        scope: Scope, numbered: bool,
    ) -> Value:  # fmt: skip
        naming = self.names(nodes, numbered)
        scope.listing = naming
        named = self.named  # else no entry is looked up, so none need go into the scope
        for position, node in enumerate(nodes):
            scope.position = position
            base, flat = naming[position]
            if node.rows == 0:  # an empty block, however often repeated, passes x through
                if named:
                    scope.add(base, Entry(x, node, position=position))
                continue
            first = len(self.rows)
            keep = trainable and node.trainable
            if node.sources is not None:
                try:
                    x = self.read(node.sources, scope)
                except CnncalcError as exc:
                    raise self.fail(exc, prefix + base, node.line) from None
            if node.repeat == 1:
                x, children = self.node(node, prefix, base, flat, x, depth, keep, scope)
                if not named:
                    continue
                inside = children if self.paths else None
                entry = Entry(x, node, inside, None, (first, len(self.rows)), position)
                if flat and children is not None:
                    for name, inner in children.names.items():
                        if isinstance(inner, Entry):
                            scope.add(name, Entry(inner.value, inner.node, inner.children,
                                                  inner.copies, inner.rows, position,
                                                  inner.repeat))  # fmt: skip
            else:
                copies: list[Entry] | None = [] if self.paths else None
                for copy in range(node.repeat):
                    start = len(self.rows)
                    x, children = self.node(
                        node, f"{prefix}{base}.", str(copy), False, x, depth + 1, keep, scope
                    )
                    if copies is not None:
                        copies.append(Entry(x, node, children, rows=(start, len(self.rows))))
                if not named:
                    continue
                entry = Entry(x, node, None, copies, (first, len(self.rows)), position, node.repeat)
            scope.add(base, entry)
        return x

    def node(
        self, node: Node, prefix: str, base: str, flat: bool, x: Value, depth: int,
        trainable: bool, scope: Scope,
    ) -> tuple[Value, Scope | None]:  # fmt: skip
        """One use of an entry named ``prefix + base``: its output, and for a block the
        scope of its names. A layer named ``OWN_NAME`` is its block's own row (a Keras
        layer whose ``activation=`` follows it as ``NAME.activation``)."""
        name = prefix[:-1] if base == OWN_NAME else prefix + base
        if isinstance(node, LayerNode) and node.share is None:
            return self.leaf(node, name, x, depth, self.parent(prefix), trainable, scope), None
        if isinstance(node, FailedNode):
            raise self.fail(node.error or SpecError("invalid entry"), name, node.line)
        if isinstance(node, ShareNode) or node.share is not None:
            return self.shared(node, prefix, base, x, depth, trainable, scope)
        assert isinstance(node, BlockNode)
        inner, inner_depth = (prefix, depth) if flat else (f"{name}.", depth + 1)
        if node.merge is None:
            own = Scope(None if node.defined else scope)
            if node.defined:  # a defined block sees its own entries and its input
                own.inputs["input"] = Entry(x, None)
            numbered = not node.defined
            out = self.sequence(node.branches[0], x, inner, inner_depth, trainable, own, numbered)
            return out, own
        return self.merge(node, name, inner, inner_depth, flat, x, trainable, scope)

    def merge(
        self, node: BlockNode, name: str, inner: str, depth: int, flat: bool, x: Value,
        trainable: bool, scope: Scope,
    ) -> tuple[Value, Scope]:  # fmt: skip
        """A residual or parallel block: every branch reads the block input, then a merge
        row reads every branch's output."""
        own = Scope(scope)
        outputs: list[Value] = []
        labels: list[str] = []
        for i, branch in enumerate(node.branches):
            if node.kind == "residual":
                label = "body" if i == 0 else "shortcut"
                key = None if i == 0 else "shortcut"
            else:
                label, key = f"branch {i}", str(i)
            prefix = inner if flat or key is None else f"{inner}{key}."
            branch_scope = Scope(scope)
            out = self.sequence(
                branch, x, prefix, depth if flat or key is None else depth + 1, trainable,
                branch_scope, False,
            )  # fmt: skip
            outputs.append(out)
            labels.extend([label] * len(out))
            if flat or key is None:
                for n, e in branch_scope.names.items():
                    if isinstance(e, Entry):
                        own.add(n, e)
            else:
                own.add(key, Entry(out, None, branch_scope))
        how = node.merge or "add"
        layer = self.merges.get(how)
        if layer is None:
            layer = self.merges[how] = find_type(how).from_arguments([], {})  # type: ignore[union-attr]
        reads = tuple(flow for out in outputs for flow in out)
        merged = self.merge_row(
            layer, f"{inner}{how}", reads, depth, inner[:-1] or None, trainable, node.line,
            labels, node.kind,
        )  # fmt: skip
        own.add(how, Entry(merged, None))
        return merged, own

    # ---- rows -------------------------------------------------------------------------------
    def add_row(self, row: Row, reads: Value, outputs: Value) -> None:
        shares = None
        if self.sharing:
            row, shares = self.share_row(row)
        self.rows.append(row)
        self.steps.add([f.id for f in reads], outputs[0].id, shares)

    def leaf(
        self, node: LayerNode, name: str, x: Value, depth: int, parent: str | None,
        trainable: bool, scope: Scope,
    ) -> Value:  # fmt: skip
        layer = node.layer
        reads = x
        if node.size_of is not None:
            try:
                like = self.lookup(node.size_of, scope, "size_of").value
                if isinstance(like, Pieces) or len(like) != 1:
                    raise SpecError(f"size_of {node.size_of} is a split; name one piece")
                layer = self.sized_layer(node, like[0].shape)
            except CnncalcError as exc:
                raise self.fail(exc, name, node.line) from None
            reads = (*x, like[0])
        assert layer is not None
        if isinstance(layer, MergeLayer):
            return self.merge_row(layer, name, x, depth, parent, trainable, node.line, None, None)
        if len(x) != 1 or isinstance(x, Pieces):
            pieces = ", ".join(f.name for f in x)
            what = f"{len(x)} ({pieces})" if len(x) != 1 else f"a split of one piece ({pieces})"
            raise self.fail(
                SpecError(
                    f"{layer.type_name} reads one tensor but gets {what}; "
                    "say which with from: NAME.0, NAME.1, …"
                ),
                name, node.line,
            )  # fmt: skip
        source = x[0]
        shape = source.shape
        if isinstance(layer, SplitLayer):
            return self.split_row(layer, name, source, depth, parent, trainable, node.line)
        out, params, buffers, macs, flops, window = self.counted(layer, shape, name, node.line)
        field = source.field
        if len(out) != len(shape) or layer.receptive == "reset":
            field = None
        elif layer.receptive == "window":
            field = None if window is None else apply_window(field, window)
        row = Row(
            index=len(self.rows) + 1, name=name, type=layer.type_name,
            input_shape=shape, output_shape=out, params=params, trainable=trainable,
            buffers=buffers, macs=macs, flops=flops, window=window,
            field=row_field(field, out), layer=layer, line=node.line,
            sources=(source.name,) if reads is x else tuple(f.name for f in reads),
            depth=depth, parent=parent,
        )  # fmt: skip
        made = (self.flow(name, out, field),)
        self.add_row(row, reads, made)
        return made

    def sized_layer(self, node: LayerNode, like: Shape) -> LayerType:
        """The layer of ``upsample: {size_of: NAME}`` once NAME's size is known."""
        size = like[2:]
        if not size:
            raise ShapeError(f"size_of needs a tensor with spatial dimensions, got {show_shape(like)}")
        key = (id(node), size)
        layer = self.sized.get(key)
        if layer is None:
            info = node.arguments or {}
            keywords = {**info["keywords"], "size": list(size)}
            layer = self.sized[key] = info["type"].from_arguments([], keywords, info["spelled"])
        return layer

    def split_row(
        self, layer: SplitLayer, name: str, source: Flow, depth: int, parent: str | None,
        trainable: bool, line: int | None,
    ) -> Value:  # fmt: skip
        try:
            pieces = layer.pieces(source.shape)
        except CnncalcError as exc:
            raise self.fail(exc, name, line) from None
        made = Pieces(
            self.flow(f"{name}.{i}", shape, source.field if len(shape) >= 3 else None)
            for i, shape in enumerate(pieces)
        )
        row = Row(
            index=len(self.rows) + 1, name=name, type=layer.type_name,
            input_shape=source.shape, output_shape=pieces[0], params=0, trainable=trainable,
            buffers=0, macs=0, flops=0, field=row_field(source.field, pieces[0]),
            layer=layer, line=line, sources=(source.name,), depth=depth, parent=parent,
            output_shapes=tuple(pieces),
        )  # fmt: skip
        self.add_row(row, (source,), made)
        return made

    def merge_row(
        self, layer: LayerType, name: str, reads: Value, depth: int, parent: str | None,
        trainable: bool, line: int | None, labels: list[str] | None, block: str | None,
    ) -> Value:  # fmt: skip
        shapes = [f.shape for f in reads]
        assert isinstance(layer, MergeLayer)
        try:
            merged = layer.merged_shape(shapes, labels or [f.name for f in reads])
        except CnncalcError as exc:
            if block is not None:  # name the block, as the residual/parallel shorthand reads
                exc = ShapeError(f"{block} {exc.message}")
            raise self.fail(exc, name, line) from None
        fields = [f.field for f in reads]
        field = union(fields) if all(len(s) == len(merged) for s in shapes) else None
        row = Row(
            index=len(self.rows) + 1, name=name, type=layer.type_name, input_shape=shapes[0],
            output_shape=merged, params=0, trainable=trainable, buffers=0, macs=0,
            flops=layer.merge_flops(shapes, merged), field=row_field(field, merged),
            input_shapes=tuple(shapes), layer=layer, line=line,
            sources=tuple(f.name for f in reads), depth=depth, parent=parent,
        )  # fmt: skip
        made = (self.flow(name, merged, field),)
        self.add_row(row, reads, made)
        return made

    def counted(self, layer: LayerType, shape: Shape, name: str, line: int | None) -> Counts:
        """What a layer makes of an input shape. Remembered per (layer, shape): a generated
        network meets the same layer on the same shape many times. A ``FlatShape`` input,
        whose factors may change the wording of an error, is not remembered."""
        plain = type(shape) is tuple
        if plain and (known := self.known.get((layer, shape))) is not None:
            return known
        try:
            out = layer.output_shape(shape)
            if max(out, default=0) > MAX_DIMENSION:
                raise ShapeError(
                    f"{layer.type_name} output {show_shape(out)} has a dimension above "
                    f"{MAX_DIMENSION:,} (limit MAX_DIMENSION)"
                )
            window = layer.window(shape) if layer.receptive != "pointwise" else None
        except CnncalcError as exc:
            raise self.fail(exc, name, line) from None
        counts = (
            out, layer.params(shape), layer.buffers(shape), layer.macs(shape, out),
            layer.flops(shape, out), window,
        )  # fmt: skip
        if plain:
            self.known[(layer, shape)] = counts
        return counts

    # ---- shared weights -------------------------------------------------------------------
    def shared(
        self, node: Node, prefix: str, base: str, x: Value, depth: int, trainable: bool,
        scope: Scope,
    ) -> tuple[Value, Scope | None]:  # fmt: skip
        """``share: NAME``: the entry NAME made again on this input, each row calling the
        module of NAME's row: params 0 (counted at the first use), MACs counted."""
        name = prefix + base
        target = node.share or ""
        try:
            entry = self.lookup(target, scope, "share")
        except CnncalcError as exc:
            raise self.fail(exc, name, node.line) from None
        original = entry.node
        if original is None or entry.rows[0] == entry.rows[1]:
            raise self.fail(
                SpecError(f"share {target}: names a tensor, not a layer or block entry"),
                name, node.line,
            )  # fmt: skip
        if isinstance(original, ShareNode) or original.share is not None:
            first = self.rows[entry.rows[0]].shares
            raise self.fail(
                SpecError(f"share {target}: {target} is itself a shared use; share {first}"),
                name, node.line,
            )  # fmt: skip
        if not isinstance(node, ShareNode):
            self.check_same(node, original, target, name)
        rows = self.rows[entry.rows[0] : entry.rows[1]]
        if len(self.rows) + len(rows) > MAX_LAYERS:
            raise self.fail(
                LimitError(
                    f"share {target}: the model expands to more than {MAX_LAYERS:,} layers "
                    "with its shared uses (limit MAX_LAYERS)"
                ),
                name, node.line,
            )  # fmt: skip
        self.sharing.append((target, rows, [0], node.line))
        try:
            if entry.repeat > 1:
                children = None
                for copy in range(entry.repeat):
                    x, children = self.node(
                        plain_copy(original), f"{name}.", str(copy), False, x, depth + 1,
                        trainable, scope,
                    )  # fmt: skip
                return x, children
            return self.node(plain_copy(original), prefix, base, False, x, depth, trainable, scope)
        finally:
            self.sharing.pop()

    def share_row(self, row: Row) -> tuple[Row, int]:
        """A row of a shared use, against the row of the first use it repeats: the same
        parameters (a layer whose inferred size changes cannot be shared); params and
        buffers 0, and ``shares`` the first use's name."""
        target, rows, at, line = self.sharing[-1]
        original = rows[at[0]]
        at[0] += 1
        params = self.module_params.get(original.index, original.params)
        if row.params != params:
            raise self.fail(
                ShapeError(
                    f"share {target}: {original.name} holds {params:,} params for input "
                    f"{show_shape(original.input_shape)}; on this input "
                    f"{show_shape(row.input_shape)} the same layer would need {row.params:,}"
                ),
                row.name, line,
            )  # fmt: skip
        first = self.root.get(original.index, original.index)
        self.root[row.index] = first
        self.module_params[row.index] = params
        row = row._replace(params=0, buffers=0, shares=self.rows[first - 1].name)
        return row, first

    def check_same(self, node: Node, original: Node, target: str, name: str) -> None:
        """``share:`` beside a layer type: the same type and arguments as NAME's."""
        def described(n: Node) -> tuple[str, dict[str, Any]]:
            if isinstance(n, LayerNode) and n.layer is not None:
                return n.layer.type_name, dict(vars(n.layer.args))
            if isinstance(n, BlockNode) and n.defined:
                return n.type_name, dict(n.arguments or {})
            return n.type_name, {}

        mine, theirs = described(node), described(original)
        if mine[0] != theirs[0]:
            raise self.fail(
                SpecError(f"share {target}: {target} is {theirs[0]}, this entry is {mine[0]}"),
                name, node.line,
            )  # fmt: skip
        keys = list(dict.fromkeys([*theirs[1], *mine[1]]))
        differ = [k for k in keys if mine[1].get(k) != theirs[1].get(k)]
        if differ:
            listed = ", ".join(
                f"{k} {show_value(mine[1].get(k))} vs {show_value(theirs[1].get(k))}" for k in differ
            )
            raise self.fail(
                SpecError(
                    f"share {target}: this {mine[0]} differs from {target} in {listed}; a "
                    "shared layer has its arguments (write just share: NAME)"
                ),
                name, node.line,
            )  # fmt: skip


def show_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def plain_copy(node: Node) -> Node:
    """The node a share applies again: NAME's own, without its ``from:``/``share:``."""
    from copy import copy

    made = copy(node)
    made.sources, made.share, made.repeat = None, None, 1
    return made


# ---- the analysis ----------------------------------------------------------------------
def check_request(model: Model, batch: int, dtype: str) -> None:
    for name, shape in model.inputs.items():
        if shape is None:
            what = f"input {name}" if model.several_inputs else "input shape"
            hint = f"--input {name}=3x224x224" if model.several_inputs else "--input 3x224x224"
            raise SpecError(
                f"no {what}: give `input: [C, H, W]` in the model or {hint}",
                Location(source=model.source),
            )
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be an integer >= 1, got {batch!r}")
    if batch > MAX_DIMENSION:
        raise LimitError(f"batch {batch} is above {MAX_DIMENSION:,} (limit MAX_DIMENSION)")


def mark_used(steps: Steps, rows: list[Row], tensors: int, outputs: list[Tensor]) -> None:
    """Rows that no output needs get ``used=False``."""
    for i in steps.unneeded((t.id for t in outputs), tensors):
        rows[i] = rows[i]._replace(used=False)


def analyse(model: Model, batch: int = 1, dtype: str = "float32") -> Report:
    """Propagate shapes through the model's graph and count everything.

    An impossible layer does not raise: the report carries the rows before it and the
    error, so a caller can show both.
    """
    check_request(model, batch, dtype)
    run = Propagation(model, batch)
    top = Scope(None)
    inputs: list[Flow] = []
    for name, sample in model.inputs.items():
        shape = (batch, *sample)  # type: ignore[misc]
        field: Field = tuple((1, 1, 0) for _ in shape[2:]) if len(shape) >= 3 else None
        flow = run.flow(name, shape, field)
        inputs.append(flow)
        top.inputs[name] = Entry((flow,), None)
    error = None
    outputs: list[Tensor] = []
    graph = None
    with collector_paused():
        try:
            last = run.sequence(model.layers, (inputs[0],), "", 0, True, top, False)
            outputs = resolve_outputs(run, model, top, last)
            graph = finish(run, model, inputs, outputs)
        except CnncalcError as exc:
            error = exc
            if not run.rows:  # the first layer refused the input: say how it may have been meant
                from .hints import with_input_hint

                error = with_input_hint(exc, model, inputs[0].shape)
        # The scopes hold an entry and a tensor for every row: freed here, by reference
        # counting, so the collector does not scan them all once it runs again.
        top.names.clear()
        last = ()
        run.naming.clear()
    shapes = [f.shape for f in inputs]
    return Report(
        model=model.name, source=model.source, input_shape=shapes[0],
        output_shape=outputs[0].shape if outputs else None, rows=run.rows,
        totals=totals_of(run.rows, shapes, dtype), dtype=dtype, graph=graph, error=error,
        inputs=tuple(Tensor(f.name, f.shape, f.id) for f in inputs), outputs=tuple(outputs),
        several_inputs=model.several_inputs,
    )  # fmt: skip


def resolve_outputs(run: Propagation, model: Model, top: Scope, last: Value) -> list[Tensor]:
    """The model's outputs: those ``outputs:`` names (a split gives every piece), or the
    last entry's."""
    if model.outputs is None:
        return [Tensor(f.name, f.shape, f.id) for f in last]
    top.position = len(top.listing)
    found: list[Tensor] = []
    for name in model.outputs:
        try:
            value = run.lookup(name, top, "outputs").value
        except CnncalcError as exc:
            raise exc.with_location(source=model.source) from None
        if not isinstance(value, Pieces):
            found.append(Tensor(name, value[0].shape, value[0].id))
        else:
            found.extend(Tensor(f"{name}.{i}", f.shape, f.id) for i, f in enumerate(value))
    return found


def finish(run: Propagation, model: Model, inputs: list[Flow], outputs: list[Tensor]) -> Graph:
    """Mark the rows no output needs, refuse an input nobody reads, and make the graph."""
    mark_used(run.steps, run.rows, run.tensors, outputs)
    if len(inputs) > 1:
        read = set(run.steps.reads) | {t.id for t in outputs}
        for flow in inputs:
            if flow.id not in read:
                raise SpecError(
                    f"input {flow.name} is read by no entry; read it with from: {flow.name}, "
                    "or leave it out of inputs",
                    Location(source=model.source),
                )
    return Graph(
        inputs=tuple(Tensor(f.name, f.shape, f.id) for f in inputs), steps=run.steps,
        outputs=tuple(outputs), tensors=run.tensors,
    )  # fmt: skip
