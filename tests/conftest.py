"""Shared test settings and helpers: hypothesis profiles (CI runs ``default``;
``CNNCALC_FUZZ=long`` or ``HYPOTHESIS_PROFILE=long`` runs a long campaign), and the command
line as every CLI test drives it (``from conftest import invoke, outcome, invoke_json``)."""

import json
import os
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from cnncalc.cli import cli

settings.register_profile(
    "default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("long" if os.environ.get("CNNCALC_FUZZ") == "long" else "default")
)


def invoke(*args: str, stdin: str | bytes | None = None) -> Result:
    """``cnncalc ARGS`` in-process, stdout and stderr apart."""
    return CliRunner().invoke(cli, list(args), input=stdin)


def outcome(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``cnncalc ARGS``."""
    result = invoke(*args, stdin=stdin)
    return result.exit_code, result.stdout, result.stderr


def invoke_json(*args: str) -> Any:
    """``cnncalc ARGS --format json``, which must succeed silently on stderr."""
    code, out, err = outcome(*args, "--format", "json")
    assert (code, err) == (0, ""), err
    return json.loads(out)
