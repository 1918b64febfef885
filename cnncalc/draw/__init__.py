"""Pictures of a report: the shape-flow diagram as SVG (``svg``), laid out by ``layout``,
and the self-contained HTML page around it (``html``). Plain Python, no system binary."""

from __future__ import annotations

MAX_BOXES = 60
"""The default depth of a diagram is the deepest whose boxes number at most this."""
