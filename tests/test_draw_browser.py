"""The HTML page in a real headless browser (Debian's ``chromium``): it runs without a
console error, shows the model and its totals, folds a block on a click, and paints a
screenshot that is not blank. Skipped, with the reason, where no chromium is installed."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from conftest import invoke
from test_draw import BRANCHING as ESCAPED_NAME

from cnncalc import analyse, load_model
from cnncalc.text import with_human

CONFIGS = Path(__file__).parent.parent / "configs"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no chromium on PATH (apt-get install chromium; .ci/run installs it)"
)
BRANCHING = ESCAPED_NAME.replace('name: branching <net> & "co"', "name: branching")


def browse(page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={work / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120, cwd=work,
    )  # fmt: skip


def console_errors(stderr: str) -> list[str]:
    """The page's console messages that chromium logged (our page logs none at all)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of RGB(A) bytes of an 8-bit PNG, decoded with zlib."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, header = 8, b"", b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, bits, colour = struct.unpack(">IIBB", header[:10])
    assert bits == 8 and colour in (2, 6), (bits, colour)
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(r[i : i + 3]) for r in rows[::7] for i in range(0, stride, step * 5)]  # type: ignore[misc]


def make_page(model: str, tmp_path: Path) -> Path:
    out = tmp_path / "page.html"
    result = invoke("draw", model, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_the_console_check_sees_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><body><script>undefinedFunction();</script></body>")
    done = browse(broken, tmp_path, "--dump-dom", broken.as_uri())
    assert any("undefinedFunction" in line for line in console_errors(done.stderr))


@pytest.mark.parametrize("name", ["resnet50", "unet", "branching"])
def test_page_in_a_real_browser(name: str, tmp_path: Path) -> None:
    if name == "branching":
        model = tmp_path / "branching.yaml"
        model.write_text(BRANCHING)
        config = str(model)
    else:
        config = str(CONFIGS / f"{name}.yaml")
    page = make_page(config, tmp_path)
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    report = analyse(load_model(config))
    done = browse(page, tmp_path, "--dump-dom", page.as_uri() + "#test-fold")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert console_errors(done.stderr) == []
    assert 'data-ready="yes"' in dom and 'id="js-error"' not in dom
    assert f'<h1 id="model">{report.model}</h1>' in dom
    for figure in (with_human(report.totals.params), with_human(report.totals.macs), with_human(report.totals.flops)):
        assert figure in dom
    result = re.search(r'<pre id="test-result">(\{.*?\})</pre>', dom)
    assert result is not None, dom[-3000:]
    import json

    seen = json.loads(result.group(1))
    assert seen["block"] is not None
    assert seen["after"] < seen["before"] == seen["again"]  # folded, then unfolded again
    shot = tmp_path / f"{name}.png"
    done = browse(page, tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1400, 1000)
    colours = set(pixels)
    white = sum(1 for p in pixels if p == b"\xff\xff\xff")
    assert len(colours) > 50, len(colours)  # text, bars and boxes, not a blank page
    assert white < 0.97 * len(pixels)
    keep = Path(__file__).parent.parent / ".screenshots"
    if keep.is_dir():  # a place to look at them by eye
        shutil.copy(shot, keep / shot.name)
