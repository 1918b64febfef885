"""What cnncalc writes, whatever it reads: terminal-safe text, CSV a spreadsheet will not run,
only regular files read, output failures that end cleanly, honest output after a failure,
and the same options everywhere.

Output goes through click's CliRunner; pipes, FIFOs, a closed stdout, /dev/full, a pty
and process memory limits need a real process (``python -m cnncalc``)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cnncalc import analyse, load_model
from cnncalc.cli import MAX_SEED, cli
from cnncalc.layers import ALL_TYPES
from cnncalc.printable import printable
from cnncalc.render import csv_safe, flat_headers, table_rows
from cnncalc.tables import CHUNK, format_table

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
HOSTILE = [  # a YAML double-quoted escape, the character it makes, how cnncalc shows it
    ("\\e[2J", "\x1b[2J", "\\x1b[2J"),  # CSI: clear the screen
    ("\\e]0;title\\a", "\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # OSC: retitle, BEL
    ("\\0", "\x00", "\\x00"),
    ("\\x9b31m", "\x9b31m", "\\x9b31m"),  # C1 CSI
    ("\\u202e", "\u202e", "\\u202e"),  # right-to-left override
    ("\\u2066", "\u2066", "\\u2066"),  # left-to-right isolate
    ("\\n", "\n", "\\n"),
    ("\\r", "\r", "\\r"),
    ("\\t", "\t", "\\t"),
    ("\\x7f", "\x7f", "\\x7f"),
    ("\\u200b", "\u200b", "\\u200b"),  # zero-width space
    ("\\u2028", "\u2028", "\\u2028"),  # line separator
]
IDS = [raw for raw, _, _ in HOSTILE]


def run(*args: str, stdin: str | None = None) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def process(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    """``python -m cnncalc ARGS`` from the repository root, as a user runs it."""
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    options.setdefault("timeout", 60)
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "cnncalc", *args], cwd=ROOT, text=True, **options
    )


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` a terminal would act on: all but printable ones, space
    and the line breaks between lines."""
    return [c for c in text if not (c.isprintable() or c in " \n")]


# ---- terminal safety -----------------------------------------------------------------------
def hostile_model(tmp_path: Path, raw: str) -> Path:
    path = tmp_path / "hostile.yaml"
    path.write_text(
        f'name: "net{raw}"\ninput: [3, 8, 8]\nlayers:\n'
        f'  - relu: {{}}\n    name: "a{raw}b"\n'
        f'  - conv2d: [4, 9]\n    name: "c{raw}d"\n'
    )
    return path


@pytest.mark.parametrize(("raw", "value", "shown"), HOSTILE, ids=IDS)
@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_control_characters_in_names_are_shown_escaped(
    tmp_path: Path, raw: str, value: str, shown: str, fmt: str
) -> None:
    path = hostile_model(tmp_path, raw)
    result = run("shapes", str(path), "--format", fmt)
    assert result.exit_code == 2
    assert unsafe_characters(result.stdout) == []
    assert unsafe_characters(result.stderr) == []
    title = f"### net{shown}\n" if fmt == "markdown" else f"net{shown}: input [1, 3, 8, 8]\n"
    assert result.stdout.startswith(title)
    name = f"a{shown}b".replace("|", "\\|")
    first = result.stdout.splitlines()[4 if fmt == "markdown" else 3]
    assert (f"| 1   | {name} " if fmt == "markdown" else f"1    {name}  ") in first
    assert result.stderr == (
        f"error: {path}:6: layer 2 (c{shown}d): conv2d kernel is larger than the padded "
        "input: padded input 8×8, kernel 9×9 (kernel_size 9×9, dilation 1×1) on input "
        "[1, 3, 8, 8]\n"
    )


@pytest.mark.parametrize(("raw", "value", "shown"), HOSTILE, ids=IDS)
def test_json_keeps_names_exact(tmp_path: Path, raw: str, value: str, shown: str) -> None:
    result = run("shapes", str(hostile_model(tmp_path, raw)), "--format", "json")
    assert result.exit_code == 2
    assert unsafe_characters(result.stdout) == []  # the JSON encoder escapes them
    document = json.loads(result.stdout)
    assert document["model"] == f"net{value}"
    assert document["layers"][0]["name"] == f"a{value}b"
    assert document["error"].startswith(f"{tmp_path / 'hostile.yaml'}:6: layer 2 (c{value}d): ")


def test_a_file_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "m\x1b[31m\u202e.yaml"
    path.write_text("input: [3, 4, 4]\nlayers: [relu, conv2d: [2, 9]]\n")
    result = run("shapes", str(path))
    shown = str(tmp_path / "m\\x1b[31m\\u202e.yaml")
    assert result.stdout.startswith(f"{shown}: input [1, 3, 4, 4]\n")
    assert result.stderr.startswith(f"error: {shown}:2: layer 2 (conv2d2): ")
    assert unsafe_characters(result.stdout + result.stderr) == []


def test_echoed_option_values_are_escaped() -> None:
    result = run("shapes", "--input", "3x\x1b[2J8", "relu")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--input': --input must look like 3x224x224 or 3,224,224, "
        "got '3x\\x1b[2J8'\n"
    )
    result = run("shapes", "--input", "3x8x8", "--format", "t\x1b]0;x\x07", "relu")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--format': 't\\x1b]0;x\\x07' is not one of 'table', "
        "'json', 'csv', 'markdown'.\n"
    )
    result = run("shapes", "--input", "3x8x8", "relu -> \u202erelu")
    assert result.exit_code == 2
    assert unsafe_characters(result.stderr) == [] and "\\u202e" in result.stderr


def test_printable_escapes_every_non_printable_character() -> None:
    assert printable("plain text, ×, 日本, ü") == "plain text, ×, 日本, ü"
    assert printable("\x1b[0m\x07\x00\x9b\u202e\u2028\xa0\U000e0001\ud800") == (
        "\\x1b[0m\\x07\\x00\\x9b\\u202e\\u2028\\xa0\\U000e0001\\ud800"
    )
    every = "".join(map(chr, range(0x110000)))
    assert unsafe_characters(printable(every)) == []


def test_a_terminal_sees_no_raw_escape(tmp_path: Path) -> None:
    """Through a pty, as a user's terminal would get it: stdout and stderr."""
    pty = pytest.importorskip("pty")
    path = hostile_model(tmp_path, "\\e]0;pwned\\a\\e[2J\\u202e")
    main, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cnncalc", "params", str(path)], cwd=ROOT, stdin=secondary,
            stdout=secondary, stderr=secondary, timeout=60,
        )  # fmt: skip
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the other end is closed and everything was read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main)
    assert done.returncode == 2
    text = seen.decode()
    assert b"\x1b" not in seen and b"\x07" not in seen and "\u202e" not in text
    assert "net\\x1b]0;pwned\\x07\\x1b[2J\\u202e: input [1, 3, 8, 8]" in text
    assert "layer 2 (c\\x1b]0;pwned\\x07\\x1b[2J\\u202ed)" in text


# ---- CSV ---------------------------------------------------------------------------------------
FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    layers = "".join(
        f"  - relu: {{}}\n    name: {json.dumps(name)}\n" for name in FORMULAS
    )
    path = tmp_path / "formulas.yaml"
    path.write_text(f"input: [3, 8, 8]\nlayers:\n{layers}  - conv2d: {{out_channels: 2, kernel_size: 3, padding: 2}}\n")
    result = run("shapes", str(path), "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["name"] for row in rows[: len(FORMULAS)]] == ["'" + name for name in FORMULAS]
    conv = rows[-1]
    assert conv["name"] == "conv2d7"
    assert conv["rf_start"] == "'-2x-2"  # text that starts with "-"
    assert conv["padding"] == "2x2" and conv["params"] == "56"


def test_csv_numbers_stay_numbers() -> None:
    result = run("shapes", "--input", "2x8", "conv1d(2, 3, padding=2)", "--format", "csv")
    row = next(csv.DictReader(io.StringIO(result.stdout)))
    assert row["rf_start"] == "-2"  # a negative number, not text
    assert (row["receptive_field"], row["jump"], row["params"]) == ("3", "1", "14")
    for value, kept in [(-3, -3), ("-3", "-3"), ("-2.5", "-2.5"), ("+7", "+7"), ("1e3", "1e3"),
                        ("-1x-1", "'-1x-1"), ("-", "'-"), ("- 1", "'- 1"), (" -1", " -1"),
                        ("-1 ", "'-1 "), ("@a", "'@a"), ("a=b", "a=b"), ("", "")]:  # fmt: skip
        assert csv_safe(value) == kept, value


# ---- files and streams -------------------------------------------------------------------------
REGULAR_ONLY = "not a model file; cnncalc reads regular files, and standard input as -"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "model.yaml"
    os.mkfifo(fifo)
    done = process("shapes", str(fifo), timeout=20)  # an open() would block forever
    assert done.returncode == 2
    assert done.stderr == f"error: {fifo}: is a named pipe (FIFO), {REGULAR_ONLY}\n"
    assert done.stdout == ""


def test_a_socket_is_refused() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:  # a short path: AF_UNIX's limit
        path = os.path.join(directory, "model.sock")
        with socket.socket(socket.AF_UNIX) as server:
            server.bind(path)
            result = run("shapes", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: is a socket, {REGULAR_ONLY}\n"


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/dev/zero", "a character device"), ("/dev/null", "a character device"),
     ("/dev/urandom", "a character device"), ("/", "a directory")],
)  # fmt: skip
def test_devices_and_directories_are_refused(path: str, kind: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent here")
    result = run("shapes", "--input", "3x8x8", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: is {kind}, {REGULAR_ONLY}\n"


def test_an_existing_path_is_read_as_a_file_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("relu").write_text("input: [2, 4]\nlayers: [tanh]\n")
    result = run("shapes", "relu", "--format", "json")
    assert result.exit_code == 0
    assert [row["type"] for row in json.loads(result.stdout)["layers"]] == ["tanh"]
    Path("conv2d(4, 3)").write_text("- relu\n")
    result = run("shapes", "conv2d(4, 3)")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: conv2d(4, 3): a model file is a mapping with")
    assert run("shapes", "--input", "3x8x8", "tanh").exit_code == 0  # no such file: inline


def test_standard_output_closed() -> None:
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m cnncalc shapes --input 3x8x8 relu >&-', sys.executable],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the output: standard output is closed\n"


@pytest.mark.parametrize("args", [["shapes", "--input", "3x8x8", "relu"], ["--help"],
                                  ["shapes", "--input", "3x8x8", "relu -> conv2d(2, 9)"]])  # fmt: skip
def test_a_full_disk(args: list[str]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = process(*args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_a_broken_pipe(fmt: str) -> None:
    """The reader is gone before anything is written: exit 141, one line, no traceback."""
    command = [sys.executable, "-m", "cnncalc", "params", "--input", "3x8x8", "500 * relu"]
    with subprocess.Popen(
        [*command, "--format", fmt], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    ) as child:  # fmt: skip
        child.stdout.close()  # type: ignore[union-attr]
        stderr = child.stderr.read()  # type: ignore[union-attr]
        code = child.wait(timeout=60)
    assert code == 141
    assert stderr == "error: the output was cut short: the program reading it closed the pipe\n"


def test_piped_into_head() -> None:
    done = subprocess.run(
        ["bash", "-c", '"$0" -m cnncalc shapes --input 3x8x8 "20000 * relu" | head -1; '
         'echo "status ${PIPESTATUS[0]}"', sys.executable],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout == "inline spec: input [1, 3, 8, 8]\nstatus 141\n"
    assert done.stderr == "error: the output was cut short: the program reading it closed the pipe\n"


# ---- --seed ------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [str(MAX_SEED + 1), str(2**70), "-1"])
@pytest.mark.parametrize("command", [["execute"], ["shapes", "--execute"], ["params", "--execute"]])
def test_a_seed_torch_cannot_take_is_a_usage_error(command: list[str], seed: str) -> None:
    result = run(*command, "--input", "3x8x8", "relu", "--seed", seed)
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: Invalid value for '--seed': {seed} is not in the range 0<=x<={MAX_SEED}.\n"
    )


def test_the_seed_range_is_checked_without_torch() -> None:
    script = (
        "import sys\nfrom click.testing import CliRunner\nfrom cnncalc.cli import cli\n"
        "r = CliRunner().invoke(cli, ['execute', '--input', '3x8x8', 'relu', '--seed', "
        f"'{2**70}'])\nprint(r.exit_code, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout == "2 False\n"


def test_the_largest_seed_runs() -> None:
    pytest.importorskip("torch")
    result = run("execute", "--input", "3x8x8", "relu", "--seed", str(MAX_SEED), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["seed"] == MAX_SEED


# ---- honest output after a failure -------------------------------------------------------------
FAILING = "conv2d(4, 3) -> relu -> conv2d(2, 9)"


def test_a_failed_analysis_prints_no_totals() -> None:
    result = run("params", "--input", "3x8x8", FAILING)
    assert result.exit_code == 2
    assert result.stdout == (
        "inline spec: input [1, 3, 8, 8]\n"
        "#    name     type    output        params    MACs    FLOPs    params %    FLOPs %\n"
        "---  -------  ------  ------------  --------  ------  -------  ----------  ---------\n"
        "1    conv2d1  conv2d  [1, 4, 6, 6]  112       3,888   7,920    -           -\n"
        "2    relu2    relu    [1, 4, 6, 6]  0         0       144      -           -\n"
        "stopped before layer 3: see the error on stderr\n"
    )
    assert result.stderr == (
        "error: inline spec: layer 3 (conv2d3): conv2d kernel is larger than the padded input: "
        "padded input 6×6, kernel 9×9 (kernel_size 9×9, dilation 1×1) on input [1, 4, 6, 6]\n"
    )
    markdown = run("params", "--input", "3x8x8", FAILING, "--format", "markdown").stdout
    assert markdown.endswith("|\n\n- stopped before layer 3: see the error on stderr\n")
    assert "params:" not in markdown and "MACs:" not in markdown


@pytest.mark.parametrize("view", ["shapes", "params"])
def test_a_failed_analysis_has_null_totals_in_json(view: str) -> None:
    result = run(view, "--input", "3x8x8", FAILING, "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["totals"] is None and document["output_shape"] is None
    assert [row["name"] for row in document["layers"]] == ["conv2d1", "relu2"]
    assert document["error"].startswith("inline spec: layer 3 (conv2d3): conv2d kernel is larger")
    ok = json.loads(run(view, "--input", "3x8x8", "conv2d(4, 3)", "--format", "json").stdout)
    assert ok["totals"]["params"] == 112


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transposed_convolutions_show_their_window(nd: int) -> None:
    torch = pytest.importorskip("torch")
    sample = "x".join(["2"] + ["5"] * nd)
    spec = f"conv_transpose{nd}d(3, 4, stride=2, padding=1, output_padding=1, dilation=2)"
    result = run("shapes", "--input", sample, spec, "--format", "json")
    assert result.exit_code == 0
    row = json.loads(result.stdout)["layers"][0]
    module = getattr(torch.nn, f"ConvTranspose{nd}d")(2, 3, 4, 2, 1, 1, dilation=2)
    assert row["kernel_size"] == list(module.kernel_size) == [4] * nd
    assert row["stride"] == list(module.stride) == [2] * nd
    assert row["padding"] == [[p, p] for p in module.padding] == [[1, 1]] * nd
    assert row["dilation"] == list(module.dilation) == [2] * nd
    out = module(torch.zeros(1, 2, *[5] * nd))
    assert row["output_shape"] == list(out.shape)
    assert row["receptive_field"] is None  # no single field after a transposed convolution
    table = run("shapes", "--input", sample, spec).stdout.splitlines()[3]
    cells = re.split(r"\s{2,}", table)
    each = "×".join
    assert cells[5:10] == [each("4" * nd), each("2" * nd), each("1" * nd), each("2" * nd), "n/a"]


def test_no_message_points_at_documents_the_user_lacks() -> None:
    """The rule, not "see SPEC §1": no string in the package mentions SPEC or a section."""
    for path in (ROOT / "cnncalc").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if '"' in code or "'" in code:
                assert "SPEC" not in code and "§" not in code, f"{path}:{number}"
    result = run("shapes", "-", stdin="- relu\n")
    assert result.stderr == (
        "error: <stdin>: a model file is a mapping with the keys layers (a list of entries) "
        "and, if wanted, input, name and define, such as 'input: [3, 32, 32]' and "
        "'layers: [conv2d: [16, 3], relu]'; got a list\n"
    )
    example = run("shapes", "-", stdin="input: [3, 32, 32]\nlayers: [conv2d: [16, 3], relu]\n")
    assert example.exit_code == 0  # the example the message gives works


# ---- consistency -------------------------------------------------------------------------------
TUTOR = {"conv", "solve", "explain"}  # their options are being reworked on their own


def format_choices(command: click.Command) -> tuple[str, ...]:
    for param in command.params:
        if param.name == "fmt" or "--format" in getattr(param, "opts", ()):
            return tuple(param.type.choices)  # type: ignore[attr-defined]
    return ()


def test_csv_is_offered_wherever_json_is() -> None:
    offering = {name for name, cmd in cli.commands.items() if "json" in format_choices(cmd)}
    assert {"shapes", "params", "execute", "layers"} <= offering
    for name in offering - TUTOR:
        assert "csv" in format_choices(cli.commands[name]), name


def test_layers_as_csv() -> None:
    result = run("layers", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(ALL_TYPES) + 3
    conv = next(row for row in rows if row["type"] == "conv2d")
    assert conv["family"] == "convolution"
    assert conv["positional"].startswith("out_channels;kernel_size;stride;padding")
    assert "filters=out_channels" in conv["keyword_aliases"]
    assert [row["type"] for row in rows[-3:]] == ["sequential", "residual", "parallel"]


@pytest.mark.parametrize("command", ["shapes", "params"])
def test_run_options_say_they_need_execute(command: str) -> None:
    params = {p.name: p for p in cli.commands[command].params}
    for name in ("seed", "device", "max_memory", "timings"):
        assert params[name].help.endswith("Only with --execute."), name  # type: ignore[attr-defined]
    help_text = " ".join(run(command, "--help").stdout.split())
    assert help_text.count("Only with --execute.") == 4
    assert "Only with --execute" not in run("execute", "--help").stdout


def test_one_spelling_of_per_dimension_values() -> None:
    result = run("shapes", "--input", "3x8x8", "conv2d(4, 3, padding=1)")
    assert result.stdout.splitlines()[3].split() == [
        "1", "conv2d1", "conv2d", "[1,", "3,", "8,", "8]", "[1,", "4,", "8,", "8]",
        "3×3", "1×1", "1×1", "1×1", "3×3", "1×1", "-1×-1",
    ]  # fmt: skip


# ---- large tables ------------------------------------------------------------------------------
def tabulate_table(report: object, view: str, markdown: bool) -> str:
    from tabulate import tabulate

    return tabulate(
        list(table_rows(report, view, None)), headers=flat_headers(view),  # type: ignore[arg-type]
        tablefmt="github" if markdown else "simple", disable_numparse=True,
    )  # fmt: skip


def own_table(report: object, view: str, markdown: bool) -> str:
    return "".join(format_table(flat_headers(view), lambda: table_rows(report, view, None), markdown))  # type: ignore[arg-type]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_tables_are_tabulates_layout_byte_for_byte(path: Path) -> None:
    report = analyse(load_model(str(path)))
    for view in ("shapes", "params", "execute"):
        for markdown in (False, True):
            assert own_table(report, view, markdown) == tabulate_table(report, view, markdown)


@pytest.mark.parametrize("rows", [0, 1, CHUNK - 2, CHUNK - 1, CHUNK, 2 * CHUNK - 2, 3 * CHUNK + 5])
def test_tables_across_piece_boundaries(rows: int) -> None:
    spec = f"{rows} * relu" if rows else "relu"
    report = analyse(load_model(spec, (2, 4, 4)))
    if not rows:
        report.rows = []
    for markdown in (False, True):
        assert own_table(report, "shapes", markdown) == tabulate_table(report, "shapes", markdown)


def counted(report: object, passes: list[int]) -> Iterator[list[object]]:
    """The report's table rows, counting in ``passes`` how many each pass has read."""
    passes.append(0)
    for cells in table_rows(report, "shapes", None):  # type: ignore[arg-type]
        passes[-1] += 1
        yield cells


def test_a_large_table_streams_in_bounded_pieces() -> None:
    """131,072 rows from nested repeats: the second pass gives out its first rows before it
    has read more than CHUNK rows, so what is held does not grow with the model."""
    spec = "2 * " * 16 + "(conv2d(4, 3, padding=1) -> relu)"
    report = analyse(load_model(spec, (4, 8, 8)))
    assert len(report.rows) == 131_072
    for markdown in (False, True):
        passes: list[int] = []  # rows read, per pass
        pieces = format_table(flat_headers("shapes"), lambda passes=passes: counted(report, passes), markdown)
        first = next(pieces)
        assert passes == [131_072, CHUNK - 2]  # the widths pass, then one piece's rows
        assert first.count("\n") == CHUNK - 1
        lines = 1 + sum(piece.count("\n") for piece in pieces)
        assert lines + first.count("\n") == 131_072 + 2
        assert passes == [131_072, 131_072]


PEAK = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)\n"
)


@pytest.mark.parametrize(
    ("spec", "fmt"),
    [("125000 * (conv2d(16, 3, padding=1) -> relu)", "table"),
     ("2 * " * 16 + "(conv2d(16, 3, padding=1) -> relu)", "markdown"),
     ("125000 * (conv2d(16, 3, padding=1) -> relu)", "json")],
    ids=["250k-table", "131k-nested-markdown", "250k-json"],
)  # fmt: skip
def test_a_large_table_in_bounded_memory(spec: str, fmt: str) -> None:
    """The budget of the README: at most 300 MiB for 250,000 rows (tabulate took 676 MB)."""
    command = [sys.executable, "-m", "cnncalc", "shapes", "--input", "16x32x32", spec, "--format", fmt]
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *command], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    code, peak = map(int, done.stdout.split())
    assert code == 0
    assert peak < 300 * 1024**2


# ---- execute under the process's real memory limits -------------------------------------------
BIG = ("--input", "3x2000x2000", "conv2d(64, 3, padding=1)")  # its output alone is 1,024,000,000 bytes
HEADROOM = 600 * 1024**2  # address space left above what the process has mapped with torch


def limited_process(limit: int, resource_name: str, *args: str) -> subprocess.CompletedProcess[str]:
    resource = pytest.importorskip("resource")
    which = getattr(resource, resource_name)

    def limit_memory() -> None:
        resource.setrlimit(which, (limit, resource.getrlimit(which)[1]))

    env = dict(os.environ, OMP_NUM_THREADS="1")  # one thread: a predictable address space
    return process(*args, preexec_fn=limit_memory, env=env, timeout=120)


def mapped_with_torch(field: str) -> int:
    """VmSize or VmData of a process that has imported what execute imports."""
    pytest.importorskip("torch")
    script = (
        "import cnncalc.execute\n"
        f"print(open('/proc/self/status').read().split('{field}:')[1].split()[0])\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, env=env
    )
    return int(done.stdout) * 1024


@pytest.mark.parametrize(("resource_name", "field"), [("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")])
def test_the_default_limit_counts_the_process_limits(resource_name: str, field: str) -> None:
    """Under ``ulimit -v``/``-d`` the default is half of what the limit leaves, not half of
    the machine's free memory: the run is refused before anything is allocated."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc")
    limit = mapped_with_torch(field) + HEADROOM
    done = limited_process(limit, resource_name, "execute", *BIG)
    assert done.returncode == 2
    match = re.fullmatch(
        r"error: the run would need about 1\.04 GiB \(1,120,110,384 bytes: parameters 14 KiB, "
        r"activations 1\.04 GiB\), more than the (\d+) MiB it may use \(half of what the "
        r"process's RLIMIT_AS / RLIMIT_DATA \(ulimit -v / -d\) still allow\); raise "
        r"--max-memory, or run a smaller --input or --batch\n",
        done.stderr,
    )
    assert match, done.stderr
    assert 100 <= int(match.group(1)) <= HEADROOM // 2 // 1024**2  # half of what is left


def test_an_allocation_failure_in_pytorch_is_a_refusal() -> None:
    """With the guard lifted by --max-memory, PyTorch's own allocator fails: exit 2 with
    both figures, never a row marked as a disagreement (exit 1)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc")
    limit = mapped_with_torch("VmSize") + HEADROOM
    done = limited_process(limit, "RLIMIT_AS", "execute", *BIG, "--max-memory", "100GiB")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1  # one line
    assert done.stderr.startswith(
        "error: PyTorch could not allocate memory at row 1 (conv2d1): RuntimeError: "
    )
    assert "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1024000000 bytes" in done.stderr
    assert done.stderr.endswith(
        "; the run was estimated at about 1.04 GiB (1,120,110,384 bytes) against a limit of "
        "100 GiB, more than this process could get; lower --max-memory, raise the process's "
        "memory limit, or run a smaller --input or --batch\n"
    )
    assert "Traceback" not in done.stderr


def test_allocation_failures_are_told_from_shape_errors() -> None:
    torch = pytest.importorskip("torch")
    from cnncalc.execute import allocation_failure

    assert allocation_failure(MemoryError())
    assert allocation_failure(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert allocation_failure(RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
        "memory: you tried to allocate 1024000000 bytes. Error code 12 (Cannot allocate memory)"
    ))  # fmt: skip
    assert not allocation_failure(RuntimeError("Calculated padded input size per channel: (2 x 2)"))
    assert not allocation_failure(ValueError("can't allocate memory"))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_limits_of_the_process_and_its_parents(tmp_path: Path) -> None:
    from cnncalc.memory import _cgroup_headroom

    write(tmp_path / "memory.max", "max\n")  # the mount: no limit
    write(tmp_path / "app" / "memory.max", str(8 * 1024**3))
    write(tmp_path / "app" / "memory.current", str(1 * 1024**3))
    write(tmp_path / "app" / "job" / "memory.max", str(4 * 1024**3))
    write(tmp_path / "app" / "job" / "memory.current", str(3 * 1024**3))
    assert _cgroup_headroom(str(tmp_path), "0::/app/job\n") == 1 * 1024**3  # the job's
    write(tmp_path / "app" / "memory.current", str(7 * 1024**3 + 512))
    assert _cgroup_headroom(str(tmp_path), "0::/app/job\n") == 1 * 1024**3 - 512  # the parent's
    assert _cgroup_headroom(str(tmp_path), "0::/\n") is None  # only the unlimited mount


def test_cgroup_v1_memory_controller(tmp_path: Path) -> None:
    from cnncalc.memory import _cgroup_headroom

    write(tmp_path / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")  # unlimited
    write(tmp_path / "memory" / "box" / "memory.limit_in_bytes", str(2 * 1024**3))
    write(tmp_path / "memory" / "box" / "memory.usage_in_bytes", str(1024**3))
    own = "5:cpu,cpuacct:/box\n4:memory:/box\n0::/\n"
    assert _cgroup_headroom(str(tmp_path), own) == 1024**3
    assert _cgroup_headroom(str(tmp_path), "4:memory:/other\n") is None


def test_a_run_in_a_fresh_process_writes_nothing_on_stderr() -> None:
    """torch warns on import where NumPy is absent (it does not depend on it); execute keeps
    that off stderr, where a clean run writes nothing."""
    pytest.importorskip("torch")
    done = process("execute", "--input", "3x8x8", "conv2d(4, 3) -> relu")
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.endswith("\nall 2 layers confirmed\n")
