"""From entry data (a YAML ``layers:`` list, or what the inline parser makes) to nodes.

Handles the entry forms (bare name, ``TYPE: ARGS`` with a mapping, list, scalar or inline
call), ``name``/``repeat``/``trainable``, the three blocks, Keras's ``Activation`` and
``activation=`` (``keras_activation``), PyTorch constructors pasted with ``nn.``
(``pytorch_signatures``), and the expansion of defined blocks with ``${...}`` substitution in
the scope of their caller.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

from ..errors import CnncalcError, LimitError, Location, SpecError
from ..layers import LayerType, find_type
from ..layers.activation import ACTIVATION_NAMES
from ..limits import MAX_DEFINE_DEPTH, MAX_ENTRIES, MAX_LAYERS, MAX_NESTING, MAX_REPEAT
from ..quote import excerpt, quote
from .expressions import substitute
from .keras_activation import split_activation
from .nodes import OWN_NAME, BlockNode, Call, FailedNode, LayerNode, Node, ShareNode
from .pytorch_signatures import is_sequential, pytorch_layer, pytorch_reading, torch_class

META_KEYS = ("name", "repeat", "trainable", "from", "share")
META_SET = frozenset(META_KEYS)
# Layer types that take the spatial size of another tensor: ``upsample: {size_of: NAME}``.
SIZE_REFERENCES = {"upsample": "size"}
BLOCK_KINDS = ("sequential", "residual", "parallel")
MERGES = ("add", "concat", "mul")
DEFAULT_MERGE = {"residual": "add", "parallel": "concat"}


class Define(NamedTuple):
    """A reusable block from ``define:``: parameter defaults and its entries."""

    name: str
    params: Mapping[str, Any]
    layers: list[Any]
    line: int | None


# Argument values with nothing inside to substitute, and those hashable as they are: a
# list or mapping of only these is checked in one pass in C (most arguments are).
SCALARS = frozenset((int, float, bool, type(None)))
ATOMS = SCALARS | {str}


def line_of(value: Any, default: int | None = None) -> int | None:
    return getattr(value, "line", None) or default


def resolve(value: Any, scope: Mapping[str, Any] | None) -> Any:
    """``${...}`` substituted in a value, walking lists and mappings; the value itself (not
    a copy) where it holds no placeholder."""
    if type(value) in SCALARS:
        return value
    if isinstance(value, str):
        return substitute(value, scope or {}) if "${" in value else value
    if isinstance(value, list):
        if SCALARS.issuperset(map(type, value)):
            return value
        items = [resolve(v, scope) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        out = type(value)(items)
        if hasattr(value, "line"):
            out.line, out.lines = value.line, getattr(value, "lines", None)  # type: ignore[attr-defined]
        return out
    if isinstance(value, dict):
        if SCALARS.issuperset(map(type, value.values())):
            return value
        pairs = [(k, resolve(v, scope)) for k, v in value.items()]
        if all(new is old for (_, new), old in zip(pairs, value.values(), strict=True)):
            return value
        out_map = type(value)(pairs)
        if hasattr(value, "line"):
            out_map.line = value.line  # type: ignore[attr-defined]
        return out_map
    if isinstance(value, Call):
        return Call(resolve(value.positional, scope), resolve(value.keywords, scope))
    return value


def freeze(value: Any) -> Hashable:
    """A hashable stand-in for argument data that keeps apart what validation keeps apart
    (``1``, ``1.0`` and ``True`` are equal in Python but not to a layer's validator)."""
    if type(value) in ATOMS:
        return (type(value), value)
    if isinstance(value, list | tuple):
        if ATOMS.issuperset(map(type, value)):
            return (list, tuple(value), tuple(map(type, value)))
        return (list, tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        if ATOMS.issuperset(map(type, value.values())):
            types = (tuple(map(type, value)), tuple(map(type, value.values())))
            return (dict, tuple(value.items()), types)
        return (dict, tuple((type(k), k, freeze(v)) for k, v in value.items()))
    if isinstance(value, Call):
        return (Call, freeze(value.positional), freeze(value.keywords))
    return (type(value), value)


def with_activation(node: LayerNode, activation: LayerNode) -> BlockNode:
    """A layer and its Keras activation: rows NAME and NAME.activation."""
    node.name, activation.name = OWN_NAME, "activation"
    return BlockNode(
        type_name=node.type_name, name=None, kind="sequential", branches=[[node, activation]],
        rows=2,
    )  # fmt: skip


def checked_name(name: Any) -> str:
    """A ``name:`` as given: text, never a number, boolean or null (YAML reads ``name: 5``
    as a number, and PyTorch's module names are strings)."""
    if isinstance(name, str) and name != "":
        return name
    if isinstance(name, int | float) and not isinstance(name, bool):
        raise SpecError(f'name must be a string, got the number {name}; quote it ("{name}")')
    words = {True: "true", False: "false", None: "null"}
    shown = words[name] if isinstance(name, bool) or name is None else quote(name)
    raise SpecError(f"name must be a non-empty string, got {shown}")


def require_layers(entries: Any, what: str, advice: str = "") -> Any:
    """A block's list of entries, refused when it is empty or null: a block that holds no
    layer computes nothing, and is nearly always a slip (YAML and inline alike)."""
    if entries is None or (isinstance(entries, list) and not entries):
        raise SpecError(f"{what} needs at least one layer{advice}")
    return entries


class Builder:
    def __init__(self, defines: Mapping[str, Define], source: str) -> None:
        self.defines = defines
        self.source = source
        self.depth = 0  # blocks open around the entry being built, defined blocks included
        self.built = 0  # entries built so far, each use of a defined block or alias again
        # Layers already validated, by (type, spelling, arguments): a generated model repeats
        # a few configurations many times, and a layer is immutable once built.
        self.layers: dict[Hashable, LayerType] = {}
        self.unknown: dict[str, str] = {}  # message for each unknown type name
        self.readings: dict[str, tuple[str, bool, type[LayerType] | None]] = {}

    def nodes(
        self,
        entries: Any,
        scope: Mapping[str, Any] | None = None,
        stack: tuple[str, ...] = (),
        line: int | None = None,
    ) -> list[Node]:
        if not isinstance(entries, list):
            raise SpecError(
                f"expected a list of layers, got {type(entries).__name__.replace('Line', '').lower()}",
                Location(source=self.source, line=line_of(entries, line)),
            )
        lines = getattr(entries, "lines", None) or [line_of(entries, line)] * len(entries)
        self.depth += 1
        try:
            if self.depth > MAX_NESTING + 1:  # the model's own list is not a block
                raise LimitError(
                    f"blocks nested deeper than {MAX_NESTING} levels, defined blocks "
                    "included (limit MAX_NESTING)"
                )
            return [self.node(e, scope, stack, ln) for e, ln in zip(entries, lines, strict=True)]
        finally:
            self.depth -= 1

    def node(
        self, entry: Any, scope: Mapping[str, Any] | None, stack: tuple[str, ...], line: int | None
    ) -> Node:
        line = line_of(entry, line)
        name: str | None = None
        self.built += 1
        if self.built > MAX_ENTRIES:
            raise LimitError(
                f"the model builds more than {MAX_ENTRIES:,} entries, each use of a defined "
                "block and each YAML alias counted again (limit MAX_ENTRIES)",
                Location(source=self.source, line=line),
            )
        try:
            type_key, args, meta = self.split(entry)
            if meta:
                meta = {k: resolve(v, scope) for k, v in meta.items()}
                name = self.meta_name(meta)
            if type_key is None:  # just ``share: NAME``
                node: Node = ShareNode(type_name="share", name=None)
            else:
                node = self.make(type_key, args, scope, stack, line)
            node.line = line
            if meta:
                node.name = name
                if "repeat" in meta:
                    node.repeat = self.meta_repeat(meta)
                    node.rows *= node.repeat
                if "trainable" in meta:
                    node.trainable = self.meta_trainable(meta)
                if "from" in meta:
                    node.sources, node.many = self.meta_from(meta)
                if "share" in meta:
                    node.share = self.meta_share(meta)
            if node.rows > MAX_LAYERS:
                raise LimitError(
                    f"the model expands to more than {MAX_LAYERS:,} layers after repeat "
                    "(limit MAX_LAYERS)"
                )
            return node
        except LimitError as exc:
            raise exc.with_location(source=self.source, line=line) from None
        except CnncalcError as exc:
            type_name = entry if isinstance(entry, str) else "?"
            if isinstance(entry, dict):
                type_name = next((k for k in entry if k not in META_KEYS), "?")
            return FailedNode(
                type_name=str(type_name), name=name, line=line,
                error=exc.with_location(source=self.source, line=line),
            )  # fmt: skip

    # ---- entry anatomy ------------------------------------------------------------------
    def split(self, entry: Any) -> tuple[str | None, Any, dict[str, Any]]:
        """(type key, its arguments, the meta keys) of one entry; no type key for an entry
        that is just ``share: NAME``."""
        if isinstance(entry, str):
            return entry.strip(), None, {}
        if not isinstance(entry, dict):
            raise SpecError(
                f"a layer entry is a name or a mapping, got {type(entry).__name__} {quote(entry)}"
            )
        keys = [k for k in entry if k not in META_SET]
        meta = {k: v for k, v in entry.items() if k in META_SET} if len(keys) < len(entry) else {}
        if not keys and "share" in entry:
            return None, None, meta
        if not keys:
            raise SpecError("entry has no layer type, only " + excerpt(", ".join(map(str, entry))))
        if len(keys) > 1:
            raise SpecError(
                f"entry has more than one layer type ({excerpt(', '.join(map(str, keys)))}); "
                "start each layer with its own '- '"
            )
        if not isinstance(keys[0], str):
            raise SpecError(f"layer type must be a name, got {quote(keys[0])}")
        return keys[0], entry[keys[0]], meta

    def meta_name(self, meta: dict[str, Any]) -> str | None:
        if "name" not in meta:
            return None
        return checked_name(meta["name"])

    def meta_from(self, meta: dict[str, Any]) -> tuple[tuple[str, ...] | None, bool]:
        """``from: NAME`` or ``from: [A, B]``: the names read, and whether it was a list."""
        if "from" not in meta:
            return None, False
        value = meta["from"]
        many = isinstance(value, list | tuple)
        names = list(value) if many else [value]
        if not names:
            raise SpecError("from must name at least one tensor, got an empty list")
        for item in names:
            if isinstance(item, bool) or not isinstance(item, str | int) or str(item) == "":
                raise SpecError(f"from takes tensor names, got {item!r}")
        return tuple(str(item) for item in names), many

    def meta_share(self, meta: dict[str, Any]) -> str | None:
        value = meta.get("share")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
            raise SpecError(f"share takes the name of an earlier entry, got {value!r}")
        return str(value)

    def meta_repeat(self, meta: dict[str, Any]) -> int:
        repeat = meta.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise SpecError(f"repeat must be an integer >= 1, got {quote(repeat)}")
        if repeat > MAX_REPEAT:
            raise LimitError(f"repeat {repeat:,} is above {MAX_REPEAT:,} (limit MAX_REPEAT)")
        return repeat

    def meta_trainable(self, meta: dict[str, Any]) -> bool:
        trainable = meta.get("trainable", True)
        if not isinstance(trainable, bool):
            raise SpecError(f"trainable must be true or false, got {quote(trainable)}")
        return trainable

    # ---- the kinds of node ----------------------------------------------------------------
    def make(
        self,
        type_key: str,
        args: Any,
        scope: Mapping[str, Any] | None,
        stack: tuple[str, ...],
        line: int | None,
    ) -> Node:
        kind, pasted, layer_type = self.reading(type_key)
        if kind in BLOCK_KINDS:
            return self.block(kind, args, scope, stack, line)
        if type_key in self.defines:
            return self.use(self.defines[type_key], resolve(args, scope), stack, line)
        args = resolve(args, scope)
        if kind == "activation":
            return self.keras_activation(args)
        if pasted:  # nn.Conv2d(3, 16, 3): PyTorch's signature
            pasted_type, arguments = pytorch_layer(type_key, args)
            return self.layer(pasted_type, arguments, type_key)
        if layer_type is None:
            raise SpecError(self.unknown_type(type_key))
        if layer_type.type_name in SIZE_REFERENCES:
            reference = self.size_reference(layer_type, args, type_key)
            if reference is not None:
                return reference
        args, activation = split_activation(layer_type, args)
        node = self.layer(layer_type, args, type_key)
        if activation is None:
            return node
        return with_activation(node, self.layer(activation, None, activation.type_name))

    def reading(self, type_key: str) -> tuple[str, bool, type[LayerType] | None]:
        """What a type key names, worked out once per spelling (a model repeats a few):
        its block kind or lowered key, whether it is a PyTorch class (``nn.Conv2d``), and
        the layer type of that name, if any."""
        known = self.readings.get(type_key)
        if known is None:
            kind = "sequential" if is_sequential(type_key) else type_key.lower()
            pasted = torch_class(type_key) is not None
            known = self.readings[type_key] = (kind, pasted, find_type(type_key))
        return known

    def size_reference(self, layer_type: type[LayerType], args: Any, spelled: str) -> LayerNode | None:
        """``upsample: {size_of: NAME, ...}``: the arguments are checked now, with a stand-in
        size; the layer itself is made when the size of NAME is known."""
        keywords = args.keywords if isinstance(args, Call) else args
        if not isinstance(keywords, dict) or "size_of" not in keywords:
            return None
        rest = {k: v for k, v in keywords.items() if k != "size_of"}
        target = keywords["size_of"]
        if isinstance(target, bool) or not isinstance(target, str | int) or str(target) == "":
            raise SpecError(f"{spelled} size_of takes the name of a tensor, got {target!r}")
        size_key = SIZE_REFERENCES[layer_type.type_name]
        if size_key in rest or "scale_factor" in rest:
            raise SpecError(f"{spelled} takes size_of or {size_key}/scale_factor, not both")
        positional = list(args.positional) if isinstance(args, Call) else []
        if positional:
            raise SpecError(f"{spelled} with size_of takes its other arguments by name")
        self.validate(layer_type, {**rest, size_key: 1}, spelled)
        return LayerNode(
            type_name=layer_type.type_name, name=None, size_of=str(target),
            arguments={"spelled": spelled, "type": layer_type, "keywords": rest},
        )  # fmt: skip

    def layer(self, layer_type: type[LayerType], args: Any, spelled: str) -> LayerNode:
        try:
            key: Hashable = (layer_type, spelled, freeze(args))
            layer = self.layers.get(key)
        except TypeError:  # unhashable argument data: validate it every time
            key, layer = None, None
        if layer is None:
            layer = self.validate(layer_type, args, spelled)
            if key is not None:
                self.layers[key] = layer
        return LayerNode(type_name=layer_type.type_name, name=None, layer=layer)

    def validate(self, layer_type: type[LayerType], args: Any, spelled: str) -> LayerType:
        if isinstance(args, Call):
            positional, keywords = list(args.positional), dict(args.keywords)
        elif args is None:
            positional, keywords = [], {}
        elif isinstance(args, dict):
            positional, keywords = [], dict(args)
        elif isinstance(args, list) and not layer_type.variadic:
            positional, keywords = list(args), {}
        else:
            positional, keywords = [args], {}
        for key in keywords:
            if not isinstance(key, str):
                raise SpecError(f"{excerpt(spelled)} argument names must be text, got {quote(key)}")
        short_form = bool(positional) and torch_class(spelled) is None
        try:
            layer = layer_type.from_arguments(positional, keywords, spelled)
        except SpecError as exc:  # linear(4096, 10): perhaps a PyTorch line, pasted
            reading = pytorch_reading(layer_type, positional, keywords, spelled) if short_form else None
            if reading is None:
                raise
            raise SpecError(f"{exc.message}; {reading.advice}", exc.location) from None
        if short_form:
            layer.pasted = pytorch_reading(layer_type, positional, keywords, spelled)
        return layer

    def keras_activation(self, args: Any) -> LayerNode:
        if isinstance(args, Call):
            args = (args.positional or [None])[0] or args.keywords.get("activation")
        elif isinstance(args, dict):
            args = args.get("activation")
        layer_type = find_type(args) if isinstance(args, str) else None
        if layer_type is None or layer_type.type_name not in ACTIVATION_NAMES:
            raise SpecError(
                f"activation takes the name of an activation ({', '.join(ACTIVATION_NAMES)}), "
                f"got {quote(args)}"
            )
        return self.layer(layer_type, None, args)

    def block(
        self,
        kind: str,
        args: Any,
        scope: Mapping[str, Any] | None,
        stack: tuple[str, ...],
        line: int | None,
    ) -> BlockNode:
        if kind == "sequential":
            if isinstance(args, dict) and set(args) <= {"layers"}:
                args = args.get("layers", [])
            branches = [self.nodes(require_layers(args, "sequential"), scope, stack, line)]
            merge = None
        else:
            branches, merge = self.branches(kind, args, scope, stack, line)
        rows = sum(n.rows for branch in branches for n in branch) + (merge is not None)
        return BlockNode(
            type_name=kind, name=None, kind=kind, branches=branches, merge=merge, rows=rows
        )

    def branches(
        self,
        kind: str,
        args: Any,
        scope: Mapping[str, Any] | None,
        stack: tuple[str, ...],
        line: int | None,
    ) -> tuple[list[list[Node]], str]:
        if kind == "parallel" and isinstance(args, list):
            args = {"branches": args}
        allowed = ("body", "shortcut", "merge") if kind == "residual" else ("branches", "merge")
        if not isinstance(args, dict):
            raise SpecError(f"{kind} takes a mapping with {', '.join(allowed)}")
        unknown = [k for k in args if k not in allowed]
        if unknown:
            raise SpecError(f"{kind} has no key {quote(unknown[0])}; it takes {', '.join(allowed)}")
        merge = resolve(args.get("merge", DEFAULT_MERGE[kind]), scope)
        if not isinstance(merge, str) or merge.lower() not in MERGES:
            raise SpecError(f"{kind} merge must be one of {', '.join(MERGES)}, got {quote(merge)}")
        if kind == "residual":
            if "body" not in args:
                raise SpecError("residual needs a body")
            body = require_layers(
                args["body"], "residual body", " (a shortcut left out is the identity)"
            )
            body = self.nodes(body, scope, stack, line)
            shortcut = self.nodes(args.get("shortcut") or [], scope, stack, line)
            return [body, shortcut], merge.lower()
        raw = args.get("branches")
        if not isinstance(raw, list) or len(raw) < 2:
            raise SpecError("parallel needs branches: a list of at least 2 lists of layers")
        if all(b is None or b == [] for b in raw):  # an empty branch passes x through
            raise SpecError(
                "parallel needs a branch with at least one layer (an empty branch is the "
                "identity, and a block of identities computes nothing)"
            )
        return [self.nodes(b or [], scope, stack, line) for b in raw], merge.lower()

    def use(
        self, define: Define, args: Any, stack: tuple[str, ...], line: int | None
    ) -> BlockNode:
        if define.name in stack:
            chain = " -> ".join((*stack, define.name))
            raise SpecError(f"defined block {define.name} uses itself ({chain})")
        if len(stack) >= MAX_DEFINE_DEPTH:
            raise LimitError(
                f"defined blocks nested deeper than {MAX_DEFINE_DEPTH} (limit MAX_DEFINE_DEPTH)"
            )
        if isinstance(args, Call):
            if args.positional:
                raise SpecError(f"{define.name} takes its parameters by name")
            args = args.keywords
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise SpecError(
                f"{define.name} takes its parameters as a mapping "
                f"({', '.join(define.params) or 'it has none'}), got {quote(args)}"
            )
        unknown = [k for k in args if k not in define.params]
        if unknown:
            known = ", ".join(define.params) or "none"
            raise SpecError(f"{define.name} has no parameter {quote(unknown[0])} (parameters: {known})")
        scope = {**define.params, **args}
        children = self.nodes(define.layers, scope, (*stack, define.name), define.line)
        rows = sum(n.rows for n in children)
        return BlockNode(
            type_name=define.name, name=None, kind="sequential", branches=[children], rows=rows,
            defined=True, arguments=dict(args),
        )  # fmt: skip

    def unknown_type(self, type_key: str) -> str:
        message = self.unknown.get(type_key)
        if message is None:
            import difflib

            from ..layers import known_names

            names = known_names() + list(self.defines) + list(BLOCK_KINDS)
            close = difflib.get_close_matches(type_key.lower(), names, 1, 0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            message = f"unknown layer type {quote(type_key)}{hint}; `cnncalc layers` lists them"
            self.unknown[type_key] = message
        return message
