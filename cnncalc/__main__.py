"""The ``cnncalc`` process: ``python -m cnncalc`` and the installed ``cnncalc`` script.

A command runs for a fraction of a second, and the cyclic garbage collector's passes over it
are almost all waste: during the imports it traverses every object the modules just made
(none of which is garbage); a command on a ResNet-50 makes some tens of thousands of objects
more, which the default threshold (a collection every 700) would traverse a dozen times to
find a few dozen cycles; and at exit the interpreter's final collection traverses everything
once more just before the process ends. So the imports run with the collector off, what
they made is frozen out of every later collection (``gc.freeze``), the threshold rises to
one young collection per ``YOUNG_THRESHOLD`` objects, so a large model's cyclic garbage is
still reclaimed with memory bounded, and at exit everything is frozen again. Together this
is about a fifth of a small command's time. ``cnncalc.cli`` itself changes nothing, for
programs that import it.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 100_000


def main() -> None:
    gc.disable()
    from .cli import main as run_command

    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    gc.enable()
    try:
        run_command()
    finally:
        gc.freeze()  # the exit's final collection would only traverse what the OS frees


if __name__ == "__main__":
    main()
