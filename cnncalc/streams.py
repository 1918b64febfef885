"""The edges of a run: what reaches the terminal when something goes wrong.

``StreamsCli`` is the command group's class. Run as a program it

* shows click's own usage errors through ``printable``, as ``cli.fail`` shows cnncalc's;
* ends a run whose output cannot be written with one line on stderr and no traceback:
  exit ``EXIT_BROKEN_PIPE`` (141, what a shell reports for a program a broken pipe
  stopped) when the reader went away (``cnncalc params big.yaml | head -1``), and exit 2
  for any other write error (standard output closed, a full disk). click itself would
  make a broken pipe exit 1, which is ``execute``'s "PyTorch disagrees";
* maps Ctrl-C to exit 130, not 1, for the same reason.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any, NoReturn

import click

from .errors import CnncalcError
from .printable import printable, printable_lines

EXIT_BROKEN_PIPE = 128 + 13  # 128 + SIGPIPE
EXIT_WRITE_ERROR = 2
EXIT_INTERRUPTED = 128 + 2  # 128 + SIGINT


class OutputError(Exception):
    """Writing standard output failed. Not an OSError, so that click does not turn it into
    exit 1 on the way out."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class GuardedStream:
    """Standard output whose failed writes and flushes raise ``OutputError``."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def say(line: str) -> None:
    """One line on stderr; nothing more can be done where stderr fails too."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def output_failed(exc: OutputError) -> int:
    """Report a failed write of standard output; the exit status."""
    try:  # the interpreter flushes stdout once more on exit: let that write go nowhere
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.__stdout__.fileno())  # type: ignore[union-attr]
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
    if exc.error.errno == errno.EPIPE:
        say("error: the output was cut short: the program reading it closed the pipe")
        return EXIT_BROKEN_PIPE
    reason = exc.error.strerror or str(exc.error)
    say(f"error: cannot write the output: {reason}")
    return EXIT_WRITE_ERROR


def exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    say(printable(str(code)))
    return 1


class StreamsCli(click.Group):
    """A click group that owns its error output and standard output's failures."""

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> NoReturn | Any:  # fmt: skip
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        if sys.stdout is None:  # started with standard output closed (`>&-`)
            say("error: cannot write the output: standard output is closed")
            sys.exit(EXIT_WRITE_ERROR)
        guard = sys.stdout is sys.__stdout__  # a real process, not a test's captured output
        if guard:
            sys.stdout = GuardedStream(sys.stdout)  # type: ignore[assignment]
        try:
            code = self.run(args, prog_name, complete_var, extra)
            sys.stdout.flush()
        except OutputError as exc:
            code = output_failed(exc)
        finally:
            if guard:
                sys.stdout = sys.__stdout__
        sys.exit(code)

    def run(self, args: Any, prog_name: str | None, complete_var: str | None, extra: Any) -> int:
        """The exit status of one invocation; an ``OutputError`` passes through."""
        try:
            value = super().main(args, prog_name, complete_var, False, **extra)
        except SystemExit as exc:
            return exit_status(exc)
        except click.ClickException as exc:
            shown = io.StringIO()
            exc.show(file=shown)
            say(printable_lines(shown.getvalue().rstrip("\n")))
            return exc.exit_code
        except click.Abort:
            say("Aborted!")
            return EXIT_INTERRUPTED
        except CnncalcError as exc:  # a library error that escaped a command
            say(f"error: {printable(str(exc))}")
            return exc.exit_code
        return value if isinstance(value, int) else 0
