"""Safety limits on what cnncalc reads. Each one is documented in the README and tested at and
past its value; every refusal names the limit."""

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest model file or standard input read (a 100,000-layer explicit YAML is about 3 MiB)."""

MAX_INLINE_CHARS = 100_000
"""Longest inline spec."""

MAX_YAML_ALIASES = 100
"""Most YAML alias references (``*name``) in one file; they can multiply a document."""

MAX_NESTING = 64
"""Deepest nesting of YAML collections, blocks, inline parentheses or ``${...}`` parentheses."""

MAX_LAYERS = 250_000
"""Most rows (leaf layers and merges) a model may expand to after ``repeat`` and ``define``."""

MAX_ENTRIES = 2 * MAX_LAYERS
"""Most entries (layers and blocks) a model may build, every use of a defined block and every
YAML alias counted again, ``repeat`` not expanded. Bounds the work of a file whose aliases or
defined blocks multiply entries, even ones that make no rows (empty blocks)."""

MAX_REPEAT = MAX_LAYERS
"""Largest ``repeat`` count of a single entry."""

MAX_INT_DIGITS = 18
"""Most decimal digits of an integer: in a YAML file, in an inline spec and of every
intermediate result of ``${...}`` arithmetic (so each is below 10**18)."""

MAX_DIMENSION = 10**12
"""Largest size of a single tensor dimension."""

MAX_DEFINE_DEPTH = 32
"""Deepest chain of defined blocks using defined blocks."""
