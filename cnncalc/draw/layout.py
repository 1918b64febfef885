"""A layered layout of the rows at one depth: boxes on a grid of ranks (top to bottom) and
lanes (left to right), edges routed through the gaps between them.

- Rank: an input is rank 0; a box is one rank below the lowest of the boxes it reads.
- Lane: a box takes the lane of the first of its sources it is the first consumer of (a
  U-Net's concat continues its upsampling's column, the copy across arriving as a skip),
  the next lane right of its first source otherwise (a branch), moving further right while
  the lane is taken at its rank, or where a frame it opens would have to start lower. A
  box's width is its lane's, so no two boxes overlap.
- Edges: an edge from one rank to the next runs down into the gap below its source, along
  a horizontal track there, and down into its target. A longer edge (a skip) leaves
  through the gap below its source to a vertical track in the gap between two lanes,
  which no box occupies, and enters through the gap above its target, so no edge crosses
  a box.
- Crossings: a skip takes the lane gap, among those beside or between its ends, where it
  crosses the fewest skips already placed; in one gap the shorter skips lie nearer the
  boxes, so nested skips (an FPN's laterals, a U-Net's copies) do not cross. A box's edges
  enter it in the order of where they come from, and each rank gap's horizontal runs are
  stacked so that none lies across another's way up or down, where an order allows.
- Frames: each open block is a rectangle around its boxes, its name at the top; gaps grow
  to hold the frame borders and names.
Every step is linear in boxes and edges, except the first-fit of tracks (edges times the
tracks of one gap), the choice of a skip's gap (skips times the skips beside it) and the
order of a rank gap's runs (quadratic in the runs of one gap, up to ``ORDERED_GAP``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cmp_to_key

from ..graphview import INPUT, model_inputs, model_outputs
from ..text import dims_text, human, shape_text
from ..views import Line, Node, Tree, closed_lines, external_sources, tree_lines

FONT = 11  # px, monospace, box text
EDGE_FONT = 10  # px, edge labels
FRAME_FONT = 11
CHAR = 0.62  # a monospace character's advance, in font sizes (conservative)
LINE = 15  # px between text lines in a box
PAD = 8  # px inside a box, each side
LABEL_ZONE = 16  # px under a box for its output shape
TRACK = 7  # px between parallel tracks
FRAME_PAD = 8  # px between a frame and what it holds, each side
FRAME_HEAD = 18  # px above a frame's contents for its name
MIN_LANE = 150  # px
# The records below are dataclasses without slots or value equality (boxes and edges are
# told apart by identity): each such decoration costs start-up time, and a drawing has
# only hundreds of them.


def text_width(text: str, size: float = FONT) -> float:
    return len(text) * CHAR * size


@dataclass(eq=False)
class Box:
    """A row (or ×N copies), or a model input or output."""

    kind: str  # "row" | "input" | "output"
    texts: list[tuple[str, str]]  # (class, text), one a line: type, name, arguments, counts
    names: list[str]
    sources: list[int]  # indexes of the boxes it reads
    shape: str  # the shape of what it produces
    macs: int = 0
    line: Line | None = None
    rank: int = 0
    lane: int = 0
    x: float = 0
    y: float = 0
    w: float = 0
    h: float = 0
    consumers: int = 0
    inputs_drawn: int = 0  # in-edges placed so far, to spread their entry points
    shares: str | None = None  # a shared use: the row (or block) whose weights it applies
    unused: bool = False  # no model output needs it


@dataclass(eq=False)
class Edge:
    points: list[tuple[float, float]]
    skip: bool  # routed through a gap between lanes
    unused: bool = False  # from a row no output needs


@dataclass(eq=False)
class Label:
    text: str
    x: float  # start of the baseline
    y: float
    size: float
    cls: str


@dataclass(eq=False)
class Frame:
    name: str
    label: str
    x: float
    y: float
    w: float
    h: float
    depth: int


@dataclass(eq=False)
class Diagram:
    width: float
    height: float
    boxes: list[Box]
    edges: list[Edge]
    frames: list[Frame]
    labels: list[Label]  # edge labels (shapes)
    depth: int | None
    top: float = 0  # where the drawing starts below the legend
    max_macs: int = 0


# ---- boxes --------------------------------------------------------------------------------
def arguments(line: Line, tree: Tree) -> str:
    """A row's key arguments: the window (kernel, stride, padding, dilation where not 1)
    and the channels or features it maps; a block's layer count."""
    node = line.node
    row = node.row
    if row is None:
        count = line.total("layers")
        return f"{count} layer" + ("" if count == 1 else "s") + (" in all" if len(line.copies) > 1 else "")
    parts = []
    w = row.window
    if w is not None:
        parts.append("k" + dims_text(w.kernel))
        if any(s != 1 for s in w.stride):
            parts.append("s" + dims_text(w.stride))
        if any(w.pad_left) or any(w.pad_right):
            parts.append("p" + dims_text(w.pad_left) + ("" if w.pad_left == w.pad_right else "+"))
        if any(d != 1 for d in w.dilation):
            parts.append("d" + dims_text(w.dilation))
    shapes = row.input_shapes or (row.input_shape,)
    cin, cout = shapes[0][1:2], row.output_shape[1:2]
    if row.input_shapes and len(row.input_shapes) > 1:
        parts.append(" + ".join(str(s[1]) if len(s) > 1 else "?" for s in row.input_shapes) + f" → {cout[0] if cout else '?'}")
    elif cin and cout and cin != cout:
        parts.append(f"{cin[0]} → {cout[0]}")
    return " ".join(parts)


def common_block(names: list[str]) -> str:
    """The longest dotted prefix of every name (a name itself where there is one)."""
    parts = names[0].split(".")
    for name in names[1:]:
        other = name.split(".")
        keep = 0
        while keep < min(len(parts), len(other)) and parts[keep] == other[keep]:
            keep += 1
        parts = parts[:keep]
    return ".".join(parts)


def shared_with(line: Line, tree: Tree) -> str | None:
    """What a box's weights are, where every row in it is a shared use (``share:``): the
    row it shares, or for a block the longest dotted prefix of the rows its rows share
    (``tower`` for a second use of a tower); None where some row has weights of its own."""
    rows = tree.report.rows
    shared = [rows[i].shares for copy in line.copies for i in range(copy.first, copy.last + 1)]
    if any(name is None for name in shared):
        return None
    return common_block(shared) or "earlier rows"  # type: ignore[arg-type]


def mark_lines(line: Line, shares: str | None, unused: bool) -> list[tuple[str, str]]:
    """The marks a box carries: what it shares, and whether no output needs it (or how
    many of a block's layers none needs)."""
    marks: list[tuple[str, str]] = []
    if shares is not None:
        marks.append(("mark shared", f"shares {shares}"))
    if unused:
        marks.append(("mark unused", "unused: no output"))
    else:
        idle = line.total("layers") - line.total("used_layers")
        if idle:
            marks.append(("mark unused", f"{idle} of {line.total('layers')} layers unused"))
    return marks


def row_box(line: Line, tree: Tree, weights: dict[str, int] | None = None) -> Box:
    """A row's box. A shared use of rows with params shows ``params shared`` (they count
    at the rows it shares; ``weights`` holds each row's params by name); an unused row's
    MACs are in parentheses, as the tables show what no total counts."""
    node: Node = line.node
    count = len(line.copies)
    kind = "block" if node.is_block else node.row.type  # type: ignore[union-attr]
    names = line.names
    name = names[0] if count == 1 else f"{names[0]} … {names[-1]}"
    head = kind + (f"  ×{count}" if count > 1 else "")
    params, macs = line.total("params"), line.total("macs")
    shares = shared_with(line, tree)
    unused = line.total("used_layers") == 0
    idle = line.total("idle_macs")
    counted = human(params)
    if shares is not None and weights is not None:
        rows = tree.report.rows
        reused = sum(weights.get(rows[i].shares or "", 0) for c in line.copies for i in range(c.first, c.last + 1))
        counted = "shared" if reused else counted
    figures = f"params {counted}" + (f" · MACs {human(macs)}" if macs else "")
    if unused and idle:
        figures += f" · MACs ({human(idle)})"
    texts = [("type", head), ("name", name)]
    args = arguments(line, tree)
    if args:
        texts.append(("args", args))
    texts.append(("figures", figures))
    texts += mark_lines(line, shares, unused)
    shape = shape_text(tree.report.rows[line.copies[-1].last].output_shape)
    return Box("row", texts, names, [], shape, macs=macs, line=line, shares=shares, unused=unused)


def make_boxes(tree: Tree, depth: int | None) -> list[Box]:
    """Inputs, then one box a line in execution order, then outputs; sources resolved."""
    report = tree.report
    boxes: list[Box] = []
    by_input: dict[str, int] = {}
    for name, shape in model_inputs(report):
        by_input[name] = len(boxes)
        texts = [("type", "input")] + ([("name", name)] if name != INPUT else [])
        boxes.append(Box("input", texts + [("figures", shape_text(shape))], [], [], shape_text(shape)))
    owner = [0] * len(report.rows)
    weights = {row.name: row.params for row in report.rows} if any(r.shares for r in report.rows) else None
    for line in closed_lines(tree, depth):
        index = len(boxes)
        box = row_box(line, tree, weights)
        for copy in line.copies:
            for position in range(copy.first, copy.last + 1):
                owner[position] = index
        seen: list[int] = []
        for copy in line.copies:
            for source in external_sources(tree, copy):
                at = by_input.get(source, 0) if isinstance(source, str) else owner[source]
                if at != index and at not in seen:
                    seen.append(at)
        box.sources = seen
        boxes.append(box)
    for name, shape in model_outputs(report):
        position = next((i for i in range(len(report.rows) - 1, -1, -1) if report.rows[i].name == name), None)
        if position is None:
            continue
        boxes.append(Box("output", [("type", "output"), ("figures", shape_text(shape))], [],
                         [owner[position]], shape_text(shape)))  # fmt: skip
    for box in boxes:
        box.w = max([text_width(t) + 2 * PAD for _, t in box.texts] + [MIN_LANE])
        box.h = len(box.texts) * LINE + 2 * PAD - 4
        for s in box.sources:
            boxes[s].consumers += 1
    for box in boxes:  # room beside the out-stub for the shape label
        if box.consumers:
            box.w = max(box.w, 2 * (text_width(box.shape, EDGE_FONT) + 12))
    return boxes


# ---- grid ---------------------------------------------------------------------------------
def placing_order(boxes: list[Box], chains: list[list[int]]) -> list[int]:
    """Box indexes in execution order, each output straight after the row it shows where
    every frame of that row ends with it (so the output sits under it), else at the end."""
    outputs: dict[int, list[int]] = {}
    late: list[int] = []
    for i, box in enumerate(boxes):
        if box.kind == "output":
            s = box.sources[0]
            ends = s + 1 >= len(boxes) or not (set(chains[s]) & set(chains[s + 1]))
            (outputs.setdefault(s, []) if ends else late).append(i)
    order: list[int] = []
    for i, box in enumerate(boxes):
        if box.kind != "output":
            order.append(i)
            order += outputs.get(i, [])
    return order + late


def place(boxes: list[Box], chains: list[list[int]]) -> int:
    """Ranks and lanes; returns the number of lanes. ``chains[i]`` holds the frames box i
    lies in, outermost first (frame keys).

    Frames stay apart or nest, and hold no box of another: a frame starts below every box
    already placed in its first lane and the lanes right of it; its boxes keep to that
    lane and the ones to its right, and no lower than its first rank; and once it closes,
    its lanes are closed to later boxes down to its last rank."""
    taken: dict[int, set[int]] = {}
    continued: set[int] = set()
    deepest: list[int] = []  # per lane: the lowest rank a box holds there
    floor: list[int] = []  # per lane: the first rank a later box may take (below closed frames)
    spans: dict[int, list[int]] = {}  # open frame: first rank, first lane, last rank, last lane
    open_chain: list[int] = []
    next_input_lane = 0
    lanes = 1

    def grow(lane: int) -> None:
        while len(floor) <= lane:
            floor.append(0)
            deepest.append(-1)

    for at in placing_order(boxes, chains):
        box, chain = boxes[at], chains[at]
        keep = 0
        while keep < len(open_chain) and keep < len(chain) and open_chain[keep] == chain[keep]:
            keep += 1
        for key in reversed(open_chain[keep:]):  # frames that end before this box
            r0, l0, r1, l1 = spans.pop(key)
            grow(l1)
            for lane in range(l0, l1 + 1):
                floor[lane] = max(floor[lane], r1 + 1)
        del open_chain[keep:]
        if not box.sources:
            box.rank, preferred = 0, next_input_lane
            next_input_lane += 1
        else:
            box.rank = 1 + max(boxes[s].rank for s in box.sources)
            # the column continues from the first source this box is the first reader of
            # (a U-Net's concat sits under its upsampling, the copy across arriving as a skip)
            fresh = [s for s in box.sources if s not in continued]
            first = fresh[0] if fresh else box.sources[0]
            if first in continued:
                preferred = boxes[first].lane + 1
            else:
                preferred = boxes[first].lane
                continued.add(first)
        low_rank, low_lane = 0, 0
        if open_chain:
            low_rank, low_lane = spans[open_chain[-1]][0], spans[open_chain[-1]][1]
        lane = max(preferred, low_lane)
        rank = max(box.rank, low_rank)
        opening = chain[keep:]
        while True:
            grow(lane)
            at = max(rank, floor[lane])
            if opening:  # a new frame: below everything at this lane and to its right
                need = max([at, *(d + 1 for d in deepest[lane:])])
                if box.sources and need > rank:  # a frame moves right rather than down
                    lane += 1
                    continue
                at = need
            if lane not in taken.get(at, ()):
                break
            lane += 1
        rank = at
        box.rank, box.lane = rank, lane
        taken.setdefault(rank, set()).add(lane)
        deepest[lane] = max(deepest[lane], rank)
        for key in opening:
            spans[key] = [rank, lane, rank, lane]
            open_chain.append(key)
        for key in open_chain:
            span = spans[key]
            span[2], span[3] = max(span[2], rank), max(span[3], lane)
        lanes = max(lanes, lane + 1)
    return lanes


@dataclass(eq=False)
class Route:
    """An edge before coordinates: which gaps and tracks it uses."""

    source: int
    target: int
    below: int  # the rank gap under the source (gap r lies between ranks r and r + 1)
    below_track: int = -1
    channel: int = -1  # the lane gap of a skip (gap c lies left of lane c)
    channel_track: int = -1
    above: int = -1  # the rank gap above the target, for a skip
    above_track: int = -1
    entry: float = 0.5  # where it enters the target, as a share of its width


class Tracks:
    """First-fit tracks of one gap. A track holds disjoint intervals, kept sorted, so a
    look-up is a bisection."""

    def __init__(self) -> None:
        self.held: list[tuple[list[float], list[float]]] = []  # per track: starts, ends

    def take(self, start: float, end: float, lowest: int = 0) -> int:
        """The first track from ``lowest`` on where [start, end] is free."""
        lo, hi = min(start, end), max(start, end)
        for t in range(lowest, len(self.held)):
            starts, ends = self.held[t]
            at = bisect.bisect_left(starts, lo)
            if (at == 0 or ends[at - 1] < lo) and (at == len(starts) or starts[at] > hi):
                starts.insert(at, lo)
                ends.insert(at, hi)
                return t
        while len(self.held) < lowest:
            self.held.append(([], []))
        self.held.append(([lo], [hi]))
        return len(self.held) - 1


ORDERED_GAP = 48
"""A rank gap with at most this many horizontal runs gets them in crossing-free order
(quadratic in the runs); a fuller one is first-fit in edge order."""


def run_order(runs: list[tuple[float, float]]) -> tuple[list[int], list[list[int]]]:
    """An order of a rank gap's horizontal runs, top track first, and for each run the runs
    that must lie above it. A run (up, down) meets the edge above the gap at ``up`` and
    continues below it at ``down``. Where another run's ``down`` lies inside a run's span,
    that run must lie above it (or it crosses the other's way down); where another's
    ``up`` lies inside, below it. A cycle of such demands (a crossing no order avoids) is
    broken at the run with the fewest unmet demands."""
    n = len(runs)
    above: list[list[int]] = [[] for _ in range(n)]
    for i, (up, down) in enumerate(runs):
        lo, hi = min(up, down), max(up, down)
        for j, (other_up, other_down) in enumerate(runs):
            if i == j:
                continue
            if lo < other_down < hi:
                above[j].append(i)
            if lo < other_up < hi:
                above[i].append(j)
    waiting = [len(set(a)) for a in above]
    below: list[list[int]] = [[] for _ in range(n)]
    for j, a in enumerate(above):
        for i in set(a):
            below[i].append(j)
    order: list[int] = []
    done = [False] * n
    ready = [i for i in range(n) if waiting[i] == 0]
    while len(order) < n:
        if not ready:  # a cycle: break it where least is unmet
            ready = [min((i for i in range(n) if not done[i]), key=lambda i: (waiting[i], i))]
        i = ready.pop(0)
        if done[i]:
            continue
        done[i] = True
        order.append(i)
        for j in below[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not done[j]:
                ready.append(j)
    return order, above


@dataclass(eq=False)
class Skip:
    """A skip while its lane gap is chosen: the rank gaps its vertical run spans."""

    route: Route
    start: float  # where it leaves its source and enters its target, in lane units
    end: float
    channel: int = -1


def channel_options(lo: int, hi: int) -> list[int]:
    """The lane gaps a skip between lanes lo and hi may run in, the usual one first: right
    of a lane for a skip within it, the gap after the left lane for one across lanes."""
    if lo == hi:
        return [hi + 1, lo]
    return [lo + 1, *range(lo + 2, hi + 1), hi + 1, lo]


def channel_cost(skip: Skip, channel: int, near: list[Skip]) -> int:
    """Crossings a skip would make in ``channel`` with the skips already placed that share
    some of its rank gaps: two verticals in one gap whose spans overlap without nesting,
    and a horizontal run across another's vertical."""
    r = skip.route
    b, a = r.below, r.above
    cost = 0
    for other in near:
        o = other.route
        ob, oa = o.below, o.above
        if other.channel == channel:
            if (ob < b < oa < a) or (b < ob < a < oa):
                cost += 1
            continue
        x = other.channel
        for gap, at in ((b, skip.start), (a, skip.end)):  # this one's runs across that vertical
            if ob < gap < oa and min(at, channel) < x < max(at, channel):
                cost += 1
        for gap, at in ((ob, other.start), (oa, other.end)):  # that one's runs across this
            if b < gap < a and min(at, x) < channel < max(at, x):
                cost += 1
    return cost


def choose_channels(skips: list[Skip]) -> None:
    """Each skip's lane gap, shortest skips first: the usual gap unless another of its
    options makes fewer crossings with the skips placed so far."""
    passing: dict[int, list[Skip]] = {}
    for skip in sorted(skips, key=lambda k: (k.route.above - k.route.below, k.route.below)):
        r = skip.route
        seen: set[int] = set()
        near: list[Skip] = []
        for gap in range(r.below, r.above + 1):
            for other in passing.get(gap, ()):
                if id(other) not in seen:
                    seen.add(id(other))
                    near.append(other)
        lo, hi = sorted((int(skip.start), int(skip.end)))
        options = channel_options(lo, hi)
        costs = [channel_cost(skip, c, near) for c in options]
        skip.channel = options[costs.index(min(costs))]
        r.channel = skip.channel
        for gap in range(r.below, r.above + 1):
            passing.setdefault(gap, []).append(skip)


def side_crossings(left: Skip, right: Skip) -> int:
    """Crossings of two skips of one lane gap with ``left`` on the track left of
    ``right``'s: a run of the left one towards the right crosses the right one's vertical
    where that passes, and the other way round."""
    a, b = left.route, right.route
    count = 0
    for gap, at in ((a.below, left.start), (a.above, left.end)):
        count += at > a.channel and b.below < gap < b.above
    for gap, at in ((b.below, right.start), (b.above, right.end)):
        count += at < b.channel and a.below < gap < a.above
    return count


def channel_tracks(held: list[Skip], tracks: Tracks) -> None:
    """The tracks of one lane gap's skips: shorter skips nearer the boxes; in a gap with at
    most ``ORDERED_GAP`` skips, any two that overlap go in the order that crosses less (a
    skip bound right lies right of one bound left), each right of those before it."""
    ordered = sorted(held, key=lambda k: (k.route.above - k.route.below, k.route.below))
    if len(held) > ORDERED_GAP:
        for skip in ordered:
            skip.route.channel_track = tracks.take(skip.route.below, skip.route.above + 1)
        return
    ordered.sort(key=cmp_to_key(lambda x, y: side_crossings(x, y) - side_crossings(y, x)))
    placed: list[Skip] = []
    for skip in ordered:
        r = skip.route
        lowest = 1 + max((p.route.channel_track for p in placed
                          if p.route.below <= r.above + 1 and r.below <= p.route.above + 1), default=-1)  # fmt: skip
        r.channel_track = tracks.take(r.below, r.above + 1, lowest)
        placed.append(skip)


def routes(boxes: list[Box]) -> tuple[list[Route], dict[int, Tracks], dict[int, Tracks]]:
    """Every edge's gaps and tracks, in lane units for horizontal extents (a lane's centre
    is lane + 0.5, the gap left of lane c is at c).

    First the skips' lane gaps and tracks (nested skips outside the shorter ones); then each
    box's entry points, ordered by where its edges come from, so they do not cross on the
    way in; then each rank gap's horizontal runs in an order that keeps them off each
    other's ways up and down."""
    rank_gaps: dict[int, Tracks] = {}
    lane_gaps: dict[int, Tracks] = {}
    at_rank_lane = {(box.rank, box.lane): i for i, box in enumerate(boxes)}
    taken = at_rank_lane.keys()
    out: list[Route] = []
    skips: list[Skip] = []
    for t, box in enumerate(boxes):
        for s in box.sources:
            src = boxes[s]
            route = Route(s, t, src.rank)
            straight_column = src.lane == box.lane and all(
                (r, box.lane) not in taken for r in range(src.rank + 1, box.rank)
            )
            if box.rank != src.rank + 1 and not straight_column:
                route.above = box.rank - 1
                skips.append(Skip(route, src.lane + 0.5, box.lane + 0.5))
            out.append(route)
    choose_channels(skips)
    in_gap: dict[int, list[Skip]] = {}
    for skip in skips:
        in_gap.setdefault(skip.channel, []).append(skip)
    for channel, held in in_gap.items():
        channel_tracks(held, lane_gaps.setdefault(channel, Tracks()))

    def channel_x(route: Route) -> float:  # in lane units, tracks left to right in the gap
        return route.channel - 0.2 + 0.001 * route.channel_track

    incoming: dict[int, list[Route]] = {}
    for route in out:
        incoming.setdefault(route.target, []).append(route)
    for t, ins in incoming.items():
        def approach(route: Route) -> float:
            return channel_x(route) if route.channel >= 0 else boxes[route.source].lane + 0.5

        ordered = sorted(ins, key=approach)
        n = len(ins)
        spots = [(k + 1) / (n + 1) for k in range(n)]
        box = boxes[t]
        over = at_rank_lane.get((box.rank - 1, box.lane))
        if over is not None and boxes[over].consumers and over not in box.sources and n % 2:
            # the box right above leaves at its centre: an edge entering there would seem
            # to come from it, so entries keep off the centre
            spots = [(k + 1) / (n + 2) for k in range(n + 1)]
            middle = n // 2 + (1 if approach(ordered[n // 2]) < box.lane + 0.5 else 0)
            del spots[middle]
        for k, route in enumerate(ordered):
            route.entry = spots[k]

    def entry_x(route: Route) -> float:
        box = boxes[route.target]
        return box.lane + 0.1 + 0.8 * route.entry

    runs: dict[int, list[tuple[Route, str, float, float]]] = {}  # per rank gap
    for route in out:
        src, box = boxes[route.source], boxes[route.target]
        if route.channel >= 0:
            runs.setdefault(route.below, []).append((route, "below", src.lane + 0.5, channel_x(route)))
            runs.setdefault(route.above, []).append((route, "above", channel_x(route), entry_x(route)))
        elif src.lane == box.lane and len(box.sources) == 1:
            if box.rank > src.rank + 1:
                route.below = -1  # a straight line down an empty column
        else:
            runs.setdefault(route.below, []).append((route, "below", src.lane + 0.5, entry_x(route)))
    for gap, held in runs.items():
        tracks = rank_gaps.setdefault(gap, Tracks())
        if len(held) > ORDERED_GAP:
            order, above = list(range(len(held))), [[] for _ in held]
        else:
            order, above = run_order([(up, down) for _, _, up, down in held])
        track = [0] * len(held)
        for i in order:
            route, which, up, down = held[i]
            lowest = 1 + max((track[j] for j in above[i]), default=-1)
            track[i] = tracks.take(up, down, lowest)
            if which == "below":
                route.below_track = track[i]
            else:
                route.above_track = track[i]
    return out, rank_gaps, lane_gaps


# ---- frames -------------------------------------------------------------------------------
def frame_nodes(tree: Tree, depth: int | None, boxes: list[Box]) -> dict[int, tuple[Node, list[int]]]:
    """Each open block (by id) with the boxes inside it."""
    holders: dict[int, tuple[Node, list[int]]] = {}
    for line in tree_lines(tree, depth):
        if line.open:
            holders[id(line.node)] = (line.node, [])
    for i, box in enumerate(boxes):
        if box.line is None:
            continue
        parent = box.line.node.parent
        while parent is not None and parent is not tree.root:
            if id(parent) in holders:
                holders[id(parent)][1].append(i)
            parent = parent.parent
    return {k: v for k, v in holders.items() if v[1]}


def frame_chains(tree: Tree, boxes: list[Box], holders: dict[int, tuple[Node, list[int]]]) -> list[list[int]]:
    """For each box, the frames it lies in, outermost first."""
    chains: list[list[int]] = []
    for box in boxes:
        chain: list[int] = []
        parent = box.line.node.parent if box.line is not None else None
        while parent is not None and parent is not tree.root:
            if id(parent) in holders:
                chain.append(id(parent))
            parent = parent.parent
        chains.append(chain[::-1])
    return chains


def layout(tree: Tree, depth: int | None, top: float = 0) -> Diagram:
    """Boxes, edges, frames and labels with coordinates, the drawing starting at ``top``."""
    boxes = make_boxes(tree, depth)
    holders = frame_nodes(tree, depth, boxes)
    lanes = place(boxes, frame_chains(tree, boxes, holders))
    ranks = 1 + max((b.rank for b in boxes), default=0)
    edge_routes, rank_gaps, lane_gaps = routes(boxes)

    # frame nesting: how many frames start (end) at each rank, stacked
    levels: dict[int, int] = {}
    for key, (node, _) in holders.items():
        level, parent = 0, node.parent
        while parent is not None:
            if id(parent) in holders:
                level += 1
            parent = parent.parent
        levels[key] = level
    deepest_frame = 1 + max(levels.values(), default=-1)
    head_room = [0] * (ranks + 1)
    foot_room = [0] * (ranks + 1)
    head_count: dict[int, int] = {}
    foot_count: dict[int, int] = {}
    for _, inside in holders.values():
        first = min(boxes[i].rank for i in inside)
        last = max(boxes[i].rank for i in inside)
        head_count[first] = head_count.get(first, 0) + 1
        foot_count[last] = foot_count.get(last, 0) + 1
    for r in range(ranks + 1):
        head_room[r] = min(head_count.get(r, 0), deepest_frame)
        foot_room[r] = min(foot_count.get(r, 0), deepest_frame)

    # lane widths and x positions
    lane_w = [MIN_LANE] * lanes
    for box in boxes:
        lane_w[box.lane] = max(lane_w[box.lane], box.w)
    frame_side = FRAME_PAD * deepest_frame
    gap_w = []
    for c in range(lanes + 1):
        tracks = len(lane_gaps[c].held) if c in lane_gaps else 0
        gap_w.append(2 * frame_side + tracks * TRACK + 24)
    lane_x = []
    x = 10.0
    for c in range(lanes):
        x += gap_w[c]
        lane_x.append(x)
        x += lane_w[c]
    width = x + gap_w[lanes] + 10

    def gap_x(c: int) -> float:
        """The left edge of gap c's tracks (after the frames of the lane on its left)."""
        start = lane_x[c] - gap_w[c] if c < lanes else lane_x[lanes - 1] + lane_w[lanes - 1]
        return start + frame_side + 12

    # rank heights and y positions
    rank_h = [0.0] * ranks
    for box in boxes:
        rank_h[box.rank] = max(rank_h[box.rank], box.h)
    rank_y = []
    gap_tracks_y = []
    y = top + 10 + FRAME_HEAD * head_room[0]
    for r in range(ranks):
        rank_y.append(y)
        y += rank_h[r]
        tracks = len(rank_gaps[r].held) if r in rank_gaps else 0
        below_start = y + LABEL_ZONE + FRAME_PAD * foot_room[r]
        gap_tracks_y.append(below_start + 6)
        y = below_start + tracks * TRACK + 12 + FRAME_HEAD * head_room[r + 1]
    height = y + 10

    for box in boxes:  # tops aligned along a rank, where the edges enter
        box.w = lane_w[box.lane]
        box.x = lane_x[box.lane]
        box.y = rank_y[box.rank]

    edges: list[Edge] = []
    for route in edge_routes:
        src, dst = boxes[route.source], boxes[route.target]
        sx, sy = src.x + src.w / 2, src.y + src.h
        tx, ty = dst.x + dst.w * route.entry, dst.y
        if route.channel < 0:
            if route.below_track < 0:
                edges.append(Edge([(sx, sy), (sx, ty)], False, src.unused))
            else:
                gy = gap_tracks_y[route.below] + route.below_track * TRACK
                edges.append(Edge([(sx, sy), (sx, gy), (tx, gy), (tx, ty)], False, src.unused))
            continue
        cx = gap_x(route.channel) + route.channel_track * TRACK
        y1 = gap_tracks_y[route.below] + route.below_track * TRACK
        y2 = gap_tracks_y[route.above] + route.above_track * TRACK
        edges.append(Edge([(sx, sy), (sx, y1), (cx, y1), (cx, y2), (tx, y2), (tx, ty)], True, src.unused))

    labels = [
        Label(box.shape, box.x + box.w / 2 + 6, box.y + box.h + 12, EDGE_FONT, "shape")
        for box in boxes if box.consumers
    ]  # fmt: skip

    frames: list[Frame] = []
    extent: dict[int, list[float]] = {}
    for key, (_, inside) in holders.items():
        extent[key] = [
            min(boxes[i].x for i in inside), min(boxes[i].y for i in inside),
            max(boxes[i].x + boxes[i].w for i in inside),
            max(boxes[i].y + boxes[i].h + (LABEL_ZONE if boxes[i].consumers else 0) for i in inside),
        ]  # fmt: skip
    for key, (node, _) in sorted(holders.items(), key=lambda kv: -levels[kv[0]]):  # innermost first
        x0, y0, x1, y1 = extent[key]
        fx, fy = x0 - FRAME_PAD, y0 - FRAME_HEAD
        fw, fh = x1 - x0 + 2 * FRAME_PAD, y1 - y0 + FRAME_HEAD + FRAME_PAD
        room = int((fw - 8) / (CHAR * FRAME_FONT))
        label = node.name if len(node.name) <= room else "…" + node.name[-(room - 1):]
        frames.append(Frame(node.name, label, fx, fy, fw, fh, levels[key]))
        parent = node.parent
        while parent is not None and id(parent) not in holders:
            parent = parent.parent
        if parent is not None:
            e = extent[id(parent)]
            e[0], e[1] = min(e[0], fx), min(e[1], fy)
            e[2], e[3] = max(e[2], fx + fw), max(e[3], fy + fh)
    frames.sort(key=lambda f: f.depth)
    max_macs = max((b.macs for b in boxes), default=0)
    return Diagram(width, height, boxes, edges, frames, labels, depth, top, max_macs)
