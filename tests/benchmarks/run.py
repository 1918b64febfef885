"""cnncalc's speed and memory against their budgets. Run on demand, not by pytest:

    python3 tests/benchmarks/run.py            # the full run, a few minutes
    python3 tests/benchmarks/run.py --quick    # fewer repetitions, smaller models
    python3 tests/benchmarks/run.py --only cold scale

Each figure is printed beside its budget. Timings are medians of several runs; where two
commands are compared they alternate within one run and the ratio is taken of the two
medians, because these machines are noisy. Whole-process figures run ``python -m cnncalc``
(an installed ``cnncalc`` script adds only its launcher), with bytecode compiled once into a
private cache first, as an installed package has it. Peak memory is each process's own
maximum resident set size (``wait4``). The exit status is 1 when a figure misses its budget.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
PYTHON = sys.executable
CNNCALC = [PYTHON, "-m", "cnncalc"]
FLOOR_CODE = "import click, yaml, pydantic_core"
FLOOR = [PYTHON, "-c", FLOOR_CODE]
RESNET50 = str(ROOT / "configs" / "resnet50.yaml")
VGG16 = str(ROOT / "configs" / "vgg16.yaml")
MIB = 1024 * 1024


# ---- measuring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    seconds: float
    peak_bytes: int


def child_env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


# Times one command and reads its peak RSS from wait4. It runs in a small interpreter of its
# own: a child forked from this (large) process could report this process's peak instead.
LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
print(os.waitstatus_to_exitcode(status), seconds, usage.ru_maxrss * 1024)
"""


def run_once(command: Sequence[str], env: dict[str, str]) -> Run:
    """One whole process: wall time and its own peak RSS; output is thrown away."""
    done = subprocess.run(
        [PYTHON, "-S", "-c", LAUNCHER, *command], capture_output=True, text=True, cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        code, seconds, peak = done.stdout.split()
    except ValueError:
        raise SystemExit(f"could not time {' '.join(command)}:\n{done.stderr}") from None
    if int(code) != 0:
        raise SystemExit(f"{' '.join(command)} failed ({code}):\n{done.stderr}")
    return Run(float(seconds), int(peak))  # ru_maxrss is in KiB on Linux


def alternate(commands: dict[str, Sequence[str]], repeats: int, env: dict[str, str]) -> dict[str, list[Run]]:
    """Each command ``repeats`` times, taking turns, after one warm-up run of each."""
    for command in commands.values():
        run_once(command, env)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(run_once(command, env))
    return runs


def median_seconds(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def median_of(measure: Callable[[], float], repeats: int) -> float:
    return statistics.median(measure() for _ in range(repeats))


# ---- reporting ---------------------------------------------------------------------------------
@dataclass
class Figure:
    section: str
    what: str
    value: float
    unit: str
    budget: float
    at_most: bool = True  # the budget is a ceiling; False: a floor (speed-ups)

    @property
    def ok(self) -> bool:
        return self.value <= self.budget if self.at_most else self.value >= self.budget

    def line(self) -> str:
        relation = "<=" if self.at_most else ">="
        ratio = self.value / self.budget if self.budget else float("nan")
        verdict = "ok" if self.ok else "MISSED"
        return (
            f"  {self.what:<58} {self.value:>10.3g} {self.unit:<4} budget {relation} "
            f"{self.budget:<8.3g} ({ratio:5.2f} of budget)  {verdict}"
        )


class Results:
    def __init__(self) -> None:
        self.figures: list[Figure] = []

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(figure.line(), flush=True)

    def note(self, text: str) -> None:
        print(f"  {text}", flush=True)

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if not f.ok]


def header(title: str) -> None:
    print(f"\n{title}", flush=True)


# ---- models ------------------------------------------------------------------------------------
PLAIN_BLOCK = ("conv2d: {out_channels: 16, kernel_size: 3, padding: 1}", "batchnorm2d", "relu")


def explicit_yaml(layers: int) -> str:
    """A deep plain network, one entry a layer: conv, batch norm, ReLU, conv, ..."""
    lines = ["name: deep-plain", "input: [16, 32, 32]", "layers:"]
    lines += [f"  - {PLAIN_BLOCK[i % 3]}" for i in range(layers)]
    return "\n".join(lines) + "\n"


def graph_yaml(layers: int) -> str:
    """A deep network of named tensors: every entry says where it reads from, and every third
    one is an ``add`` of a skip connection (conv, relu, add from [conv, relu], ...)."""
    lines = ["name: deep-graph", "input: [16, 32, 32]", "layers:"]
    previous = "input"
    for i in range(layers):
        block, step = divmod(i, 3)
        if step == 0:
            lines += ["  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1}", f"    name: c{block}"]
            lines.append(f"    from: {previous}")
        elif step == 1:
            lines += ["  - relu: {}", f"    name: r{block}", f"    from: c{block}"]
        else:
            lines += ["  - add:", f"    name: a{block}", f"    from: [c{block}, r{block}]"]
            previous = f"a{block}"
    return "\n".join(lines) + "\n"


def unet_yaml(skips: int) -> str:
    """A U-Net of ``skips`` levels at one size: encoder convs e0 .. e{n-1}, then decoder
    convs, each added to its encoder level's output (a skip connection kept alive across
    the whole model)."""
    lines = ["name: deep-unet", "input: [8, 16, 16]", "layers:"]
    for i in range(skips):
        lines += ["  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}", f"    name: e{i}"]
    for i in reversed(range(skips)):
        lines += ["  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}", f"    name: d{i}"]
        lines += ["  - add:", f"    from: [e{i}, d{i}]"]
    return "\n".join(lines) + "\n"


def repeat_inline(layers: int) -> str:
    assert layers % 2 == 0
    return f"{layers // 2} * (conv2d(16, 3, padding=1) -> relu)"


# ---- sections ----------------------------------------------------------------------------------
def cold_start(results: Results, repeats: int, env: dict[str, str]) -> None:
    header("Cold start: whole process, median, alternating with the import floor")
    commands = {
        "floor": FLOOR,
        "params resnet50 json": [*CNNCALC, "params", RESNET50, "--format", "json"],
        "memory resnet50 json": [*CNNCALC, "memory", RESNET50, "--format", "json"],
        "params resnet50 table": [*CNNCALC, "params", RESNET50],
        "--help": [*CNNCALC, "--help"],
        "layers": [*CNNCALC, "layers"],
    }
    runs = alternate(commands, repeats, env)
    floor = median_seconds(runs.pop("floor"))
    results.note(f"floor `python -c \"{FLOOR_CODE}\"`: {floor * 1000:.0f} ms")
    json_path = median_seconds(runs.pop("params resnet50 json"))
    table = median_seconds(runs.pop("params resnet50 table"))
    results.add(Figure("cold", f"params resnet50 --format json: {json_path * 1000:.0f} ms, x floor", json_path / floor, "x", 1.3))
    results.add(Figure("cold", f"params resnet50 as a table: {table * 1000:.0f} ms, x the JSON path", table / json_path, "x", 1.15))
    memory = median_seconds(runs.pop("memory resnet50 json"))
    # Noise between two medians of alternating runs is a few percent: 1.05 is "no more".
    results.add(Figure("cold", f"memory resnet50 json ({memory * 1000:.0f} ms) / params resnet50 json", memory / json_path, "x", 1.05))
    for name, measured in runs.items():
        seconds = median_seconds(measured)
        results.add(Figure("cold", f"{name}: {seconds * 1000:.0f} ms, x floor", seconds / floor, "x", 1.3))


def per_layer(results: Results, layers: int, repeats: int) -> None:
    header(f"Per layer, in process: parsed spec to finished report, {layers:,}-layer plain network")
    sys.path.insert(0, str(ROOT))
    from cnncalc.graph import analyse
    from cnncalc.model.document import build_model, make_model
    from cnncalc.model.inline import parse_inline
    from cnncalc.model.yaml_loader import load_yaml

    document = load_yaml(explicit_yaml(layers))

    def explicit() -> float:
        started = time.perf_counter()
        report = analyse(build_model(document, "bench"))
        assert report.error is None and len(report.rows) == layers
        return (time.perf_counter() - started) / layers

    entries = parse_inline(repeat_inline(layers))

    def repeated() -> float:
        started = time.perf_counter()
        report = analyse(make_model(entries, {}, "bench", None, (16, 32, 32)))
        assert report.error is None and len(report.rows) == layers
        return (time.perf_counter() - started) / layers

    results.add(Figure("layer", "explicit entries (validate, expand, propagate, count)", median_of(explicit, repeats) * 1e6, "us", 10))
    results.add(Figure("layer", "one entry with repeat (expand, propagate, count)", median_of(repeated, repeats) * 1e6, "us", 10))


def parsing(results: Results, entries: int, repeats: int) -> None:
    header(f"Parsing YAML, per layer entry, {entries:,} entries")
    import yaml

    sys.path.insert(0, str(ROOT))
    from cnncalc.model import yaml_loader

    text = explicit_yaml(entries)

    def timed(load: Callable[[str], object]) -> float:
        started = time.perf_counter()
        load(text)
        return (time.perf_counter() - started) / entries * 1e6

    ours = median_of(lambda: timed(yaml_loader.load_yaml), repeats)
    c_loader = yaml_loader.EventLoader is not yaml.SafeLoader
    results.add(Figure("parse", f"cnncalc loader ({'libyaml' if c_loader else 'pure Python'} events, limits checked)", ours, "us", 25))
    saved = yaml_loader.EventLoader
    yaml_loader.EventLoader = yaml.SafeLoader  # type: ignore[misc]
    try:
        fallback = median_of(lambda: timed(yaml_loader.load_yaml), max(1, repeats // 2))
    finally:
        yaml_loader.EventLoader = saved  # type: ignore[misc]
    results.add(Figure("parse", "cnncalc loader, pure-Python fallback", fallback, "us", 290))
    if c_loader:
        reference = median_of(lambda: timed(lambda t: yaml.load(t, Loader=yaml.CSafeLoader)), 1)  # noqa: S506
        results.note(f"reference: yaml.load(CSafeLoader) {reference:.1f} us/entry")
    reference = median_of(lambda: timed(yaml.safe_load), 1)
    results.note(f"reference: yaml.safe_load (pure Python) {reference:.1f} us/entry")


def scale(results: Results, big: int, repeats: int, env: dict[str, str], workdir: Path) -> None:
    small = big // 10
    header(f"Scale: params --format json as a whole process, {small:,} and {big:,} layers")
    files = {}
    for layers in (small, big):
        path = workdir / f"plain{layers}.yaml"
        path.write_text(explicit_yaml(layers))
        files[layers] = str(path)
    commands = {
        f"inline repeat {small}": [*CNNCALC, "params", "--input", "16x32x32", repeat_inline(small), "--format", "json"],
        f"inline repeat {big}": [*CNNCALC, "params", "--input", "16x32x32", repeat_inline(big), "--format", "json"],
        f"explicit yaml {small}": [*CNNCALC, "params", files[small], "--format", "json"],
        f"explicit yaml {big}": [*CNNCALC, "params", files[big], "--format", "json"],
        f"explicit yaml {big} csv": [*CNNCALC, "params", files[big], "--format", "csv"],
    }
    runs = alternate(commands, repeats, env)
    seconds = {name: median_seconds(r) for name, r in runs.items()}
    size = f"{big // 1000}k"
    results.add(Figure("scale", f"{size} layers inline with repeat", seconds[f"inline repeat {big}"], "s", 5))
    results.add(Figure("scale", f"{size} layers as an explicit {big:,}-entry YAML", seconds[f"explicit yaml {big}"], "s", 10))
    results.note(f"{size} explicit YAML as CSV: {seconds[f'explicit yaml {big} csv']:.2f} s")
    for form in ("inline repeat", "explicit yaml"):
        ratio = seconds[f"{form} {big}"] / seconds[f"{form} {small}"]
        results.add(Figure("scale", f"{form}: time {big:,} / time {small:,} layers", ratio, "x", 12))
    peak = max(r.peak_bytes for name, rs in runs.items() if str(big) in name for r in rs)
    results.add(Figure("memory", f"peak RSS, {size}-layer model", peak / MIB, "MiB", 300))


def graphs(results: Results, big: int, skips: int, repeats: int, env: dict[str, str], workdir: Path) -> None:
    header("Graphs: params --format json as a whole process, named tensors and skip connections")
    commands = {}
    for layers in (big // 10, big):
        path = workdir / f"graph{layers}.yaml"
        path.write_text(graph_yaml(layers))
        commands[f"graph {layers}"] = [*CNNCALC, "params", str(path), "--format", "json"]
    for count in (skips // 10, skips):
        path = workdir / f"unet{count}.yaml"
        path.write_text(unet_yaml(count))
        commands[f"unet {count}"] = [*CNNCALC, "params", str(path), "--format", "json"]
    runs = alternate(commands, repeats, env)
    seconds = {name: median_seconds(r) for name, r in runs.items()}
    results.add(Figure("graph", f"{big // 1000}k-entry graph, every entry with from:", seconds[f"graph {big}"], "s", 10))
    ratio = seconds[f"graph {big}"] / seconds[f"graph {big // 10}"]
    results.add(Figure("graph", f"graph: time {big:,} / time {big // 10:,} entries", ratio, "x", 12))
    results.note(f"U-Net with {skips:,} skip connections ({3 * skips:,} rows): {seconds[f'unet {skips}']:.2f} s")
    ratio = seconds[f"unet {skips}"] / seconds[f"unet {skips // 10}"]
    results.add(Figure("graph", f"U-Net: time {skips:,} / time {skips // 10:,} skip connections", ratio, "x", 12))


def tables(results: Results, big: int, repeats: int, env: dict[str, str]) -> None:
    """Table and markdown output of ``big`` rows (250,000 in a full run, at most 15 s and
    300 MiB), linear in rows, and nested repeats that expand to 131,072 rows."""
    small = big // 10
    header(f"Tables: shapes as a table and as markdown, {small:,} and {big:,} rows, whole process")
    nested = "2 * " * 16 + "(conv2d(16, 3, padding=1) -> relu)"  # 2**17 rows
    commands = {
        f"{fmt} {rows}": [*CNNCALC, "shapes", "--input", "16x32x32", repeat_inline(rows), "--format", fmt]
        for fmt in ("table", "markdown")
        for rows in (small, big)
    }
    commands["nested table"] = [*CNNCALC, "shapes", "--input", "16x32x32", nested]
    commands[f"json {big}"] = [*CNNCALC, "shapes", "--input", "16x32x32", repeat_inline(big), "--format", "json"]
    runs = alternate(commands, repeats, env)
    for fmt in ("table", "markdown"):
        key = f"{fmt} {big}"
        results.add(Figure("tables", f"{big:,} rows as {fmt}: time", median_seconds(runs[key]), "s", 15))
        peak = max(r.peak_bytes for r in runs[key])
        results.add(Figure("tables", f"{big:,} rows as {fmt}: peak RSS", peak / MIB, "MiB", 300))
        ratio = median_seconds(runs[key]) / median_seconds(runs[f"{fmt} {small}"])
        results.add(Figure("tables", f"{fmt}: time {big:,} / time {small:,} rows", ratio, "x", 12))
        # JSON was already linear; this ratio holds however loaded the machine is
        ratio = median_seconds(runs[key]) / median_seconds(runs[f"json {big}"])
        results.add(Figure("tables", f"{big:,} rows: {fmt} time / JSON time", ratio, "x", 2.5))
    results.add(Figure("tables", "131,072 rows of nested repeats as a table: time", median_seconds(runs["nested table"]), "s", 15))
    peak = max(r.peak_bytes for r in runs["nested table"])
    results.add(Figure("tables", "131,072 rows of nested repeats: peak RSS", peak / MIB, "MiB", 300))


def memory(results: Results, env: dict[str, str]) -> None:
    header("Memory: peak resident set of one process")
    for name, command in {
        "params resnet50 (table)": [*CNNCALC, "params", RESNET50],
        "params resnet50 --format json": [*CNNCALC, "params", RESNET50, "--format", "json"],
        "memory resnet50 --format json": [*CNNCALC, "memory", RESNET50, "--format", "json"],
    }.items():
        run_once(command, env)  # compiles the bytecode, which costs memory of its own
        peak = max(run_once(command, env).peak_bytes for _ in range(3))
        results.add(Figure("memory", f"peak RSS, {name}", peak / MIB, "MiB", 40))
    run_once(FLOOR, env)
    results.note(f"the floor imports alone: {run_once(FLOOR, env).peak_bytes / MIB:.1f} MiB")


PEER_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import torch, torchinfo
from reference_nets import {builder}
model = {builder}()
print(torchinfo.summary(model, input_size=(1, 3, {size}, {size}), verbose=0))
"""


def peers(results: Results, repeats: int, env: dict[str, str]) -> None:
    header("Against torchinfo: whole process, imports, model build and forward pass included")
    if importlib.util.find_spec("torchinfo") is None or importlib.util.find_spec("torch") is None:
        results.note("skipped: torchinfo (or torch) is not installed (pip install torchinfo)")
        return
    for builder, config, budget in (("resnet50", RESNET50, 8), ("vgg16", VGG16, 10)):
        ratios = []
        for size in (224, 1024):
            script = PEER_SCRIPT.format(tests=str(TESTS), builder=builder, size=size)
            commands = {
                "torchinfo": [PYTHON, "-c", script],
                "cnncalc": [*CNNCALC, "params", config, "--input", f"3x{size}x{size}"],
            }
            runs = alternate(commands, repeats, env)
            theirs, ours = median_seconds(runs["torchinfo"]), median_seconds(runs["cnncalc"])
            ratios.append(theirs / ours)
            results.note(f"{builder} {size}x{size}: torchinfo {theirs:.2f} s, cnncalc {ours * 1000:.0f} ms")
            results.add(Figure("peers", f"{builder} {size}x{size}: torchinfo time / cnncalc time", theirs / ours, "x", budget, at_most=False))
        results.add(Figure("peers", f"{builder}: ratio at 1024 / ratio at 224 (grows)", ratios[1] / ratios[0], "x", 1.0, at_most=False))


# Two copies of the same model as execute builds it, one with execute's per-row recording
# observer and one bare, run in turns on one thread.
EXECUTE_SCRIPT = """
import statistics, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
from cnncalc import analyse, load_model
from cnncalc.execute import Builder, Recorder

report = analyse(load_model({model!r}))
def build():
    torch.manual_seed(0)
    return Builder("cpu", torch.float32, len(report.rows), None).model(report.graph).eval()
bare = build()
checked = build()
recorder = Recorder(checked, "cpu", None)
checked.observer = recorder
x = torch.randn(report.input_shape)
def timed(model):
    with torch.inference_mode():
        started = time.perf_counter()
        model(x)
        return time.perf_counter() - started
timed(bare), timed(checked)
times = {{"bare": [], "checked": []}}
for _ in range({repeats}):
    times["bare"].append(timed(bare))
    times["checked"].append(timed(checked))
assert len(recorder.checks) == len(report.rows)
print(statistics.median(times["bare"]), statistics.median(times["checked"]))
"""


def execute_overhead(results: Results, repeats: int, env: dict[str, str]) -> None:
    header("execute: per-layer confirmation over a bare forward pass, ResNet-50, one thread")
    if not (ROOT / "cnncalc" / "execute.py").exists() or importlib.util.find_spec("torch") is None:
        results.note("skipped: cnncalc/execute.py (or torch) is not there")
        return
    script = EXECUTE_SCRIPT.format(root=str(ROOT), model=RESNET50, repeats=repeats)
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        results.note(f"skipped: execute's Builder/Recorder could not be timed ({last})")
        return
    bare, checked = map(float, done.stdout.split())
    results.note(f"forward pass: bare {bare * 1000:.0f} ms, with confirmation {checked * 1000:.0f} ms")
    results.add(Figure("execute", "confirmation overhead over a bare forward pass", (checked / bare - 1) * 100, "%", 20))


DRAW_FLOOR = [PYTHON, "-c", "import click, yaml, pydantic_core"]


def drawing(results: Results, repeats: int, env: dict[str, str], workdir: Path) -> None:
    header("draw: whole process against its dependency floor; time against rows")
    svg = str(workdir / "x.svg")
    runs = alternate({"floor": DRAW_FLOOR, "draw": [*CNNCALC, "draw", RESNET50, "-o", svg]}, repeats, env)
    floor, seconds = median_seconds(runs["floor"]), median_seconds(runs["draw"])
    results.note(f"floor `python -c \"import click, yaml, pydantic_core\"`: {floor * 1000:.0f} ms")
    results.add(Figure("draw", f"draw resnet50 -o x.svg: {seconds * 1000:.0f} ms, x floor", seconds / floor, "x", 1.6))
    commands = {}
    for layers in (1_000, 10_000):
        path = workdir / f"draw{layers}.yaml"
        path.write_text(explicit_yaml(layers))
        commands[f"chain {layers}"] = [*CNNCALC, "draw", str(path), "--depth", "all", "-o", svg]
        commands[f"blocks {layers}"] = [*CNNCALC, "draw", "--input", "16x32x32", repeat_inline(layers), "--depth", "all", "-o", svg]
    timed = {name: median_seconds(r) for name, r in alternate(commands, max(1, repeats // 3), env).items()}
    for form in ("chain", "blocks"):
        results.note(f"{form}: 1,000 rows {timed[f'{form} 1000']:.2f} s, 10,000 rows {timed[f'{form} 10000']:.2f} s")
        ratio = timed[f"{form} 10000"] / timed[f"{form} 1000"]
        results.add(Figure("draw", f"draw --depth all, {form}: time 10,000 / time 1,000 rows", ratio, "x", 12))



EXPORT_SCRIPT = """
import sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {tests!r})
import torch
from reference_nets import resnet50
model = resnet50().train()
torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), {path!r}, dynamo=False,
                  do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
"""
ONNX_TOOL_SCRIPT = "import sys, onnx_tool; onnx_tool.model_profile(sys.argv[1])"


def onnx_in(results: Results, repeats: int, env: dict[str, str], workdir: Path) -> None:
    header("ONNX in: params on resnet50.onnx (batch norm kept), whole process")
    if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("torch") is None:
        results.note("skipped: onnx (or torch, to write the file) is not installed")
        return
    path = str(workdir / "resnet50.onnx")
    script = EXPORT_SCRIPT.format(tests=str(TESTS), path=path)
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        results.note(f"skipped: torch.onnx.export failed ({done.stderr.strip().splitlines()[-1:]})")
        return
    commands = {
        "yaml": [*CNNCALC, "params", RESNET50, "--format", "json"],
        "onnx": [*CNNCALC, "params", path, "--format", "json"],
    }
    if importlib.util.find_spec("onnx_tool") is not None:
        commands["onnx-tool"] = [PYTHON, "-c", ONNX_TOOL_SCRIPT, path]
    check = subprocess.run(commands["onnx"], capture_output=True, text=True, env=env, cwd=ROOT)
    if check.returncode != 0:  # a loader without named-tensor graphs: time the translation
        results.note(f"params cannot analyse the graph here ({check.stderr.strip()[:160]}); "
                     "timing `cnncalc import` (reading and translating the file) instead")
        commands["onnx"] = [*CNNCALC, "import", path, "-o", os.devnull]
    runs = alternate(commands, repeats, env)
    yaml_s, onnx_s = median_seconds(runs["yaml"]), median_seconds(runs["onnx"])
    results.note(f"cnncalc on the YAML {yaml_s * 1000:.0f} ms, on the ONNX file {onnx_s * 1000:.0f} ms")
    results.add(Figure("onnx", "params resnet50.onnx / params resnet50.yaml", onnx_s / yaml_s, "x", 2.0))
    peak = max(run_once(commands["onnx"], env).peak_bytes for _ in range(3))
    results.add(Figure("onnx", "peak RSS, params resnet50.onnx (weights never read)", peak / MIB, "MiB", 60))
    if "onnx-tool" in runs:
        theirs = median_seconds(runs["onnx-tool"])
        results.note(f"onnx-tool profile of the same file: {theirs * 1000:.0f} ms")
        results.add(Figure("onnx", "onnx-tool time / cnncalc time on the ONNX file", theirs / onnx_s, "x", 1.0, at_most=False))
    else:
        results.note("onnx-tool is not installed (pip install onnx-tool): no peer figure")


SECTIONS = ("cold", "layer", "parse", "scale", "graph", "tables", "memory", "peers", "execute", "draw", "onnx")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller models")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS, metavar="SECTION",
                        help=f"sections to run: {', '.join(SECTIONS)}")  # fmt: skip
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    results = Results()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs; {'quick' if args.quick else 'full'} run")
    with tempfile.TemporaryDirectory(prefix="cnncalc-bench-") as work:
        env = child_env(str(Path(work) / "pycache"))
        sections: dict[str, Callable[[], None]] = {
            "cold": lambda: cold_start(results, repeats * 2, env),
            "layer": lambda: per_layer(results, 30_000, repeats),
            "parse": lambda: parsing(results, 20_000 if args.quick else 50_000, 3),
            "scale": lambda: scale(results, 100_000, 3 if args.quick else 5, env, Path(work)),
            "graph": lambda: graphs(results, 100_000, 1_000 if args.quick else 10_000, 3 if args.quick else 5, env, Path(work)),
            "tables": lambda: tables(results, 250_000 // (10 if args.quick else 1), 1 if args.quick else 3, env),
            "memory": lambda: memory(results, env),
            "peers": lambda: peers(results, 3 if args.quick else 5, env),
            "execute": lambda: execute_overhead(results, 5 if args.quick else 15, env),
            "draw": lambda: drawing(results, repeats, env, Path(work)),
            "onnx": lambda: onnx_in(results, 5 if args.quick else 15, env, Path(work)),
        }
        for name in SECTIONS:
            if name in args.only:
                sections[name]()
    missed = results.missed
    print(f"\n{len(results.figures) - len(missed)} of {len(results.figures)} figures within budget")
    for figure in missed:
        print(f"MISSED {figure.section}: {figure.what}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
