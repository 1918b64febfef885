"""The ``cnncalc`` process: ``python -m cnncalc`` and the installed ``cnncalc`` script.

A command runs for a fraction of a second, so the cyclic garbage collector's full passes are
almost all waste: during the imports it traverses every object the modules just made (none of
which is garbage), and at exit the interpreter's final collection traverses them all once
more before the process ends anyway. Freezing moves the objects that exist at that moment
out of every later collection (``gc.freeze``); together this is about a fifth of a command's
start-up. The collector stays on while the command works, so a large model's cyclic garbage
is still reclaimed. ``cnncalc.cli`` itself sets nothing, for programs that import it.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from .cli import main as run_command

    gc.freeze()
    gc.enable()
    try:
        run_command()
    finally:
        gc.freeze()  # the exit's final collection would only traverse what the OS frees


if __name__ == "__main__":
    main()
