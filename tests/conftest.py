"""Shared test settings: hypothesis profiles (CI runs ``default``; ``CNNCALC_FUZZ=long`` or
``HYPOTHESIS_PROFILE=long`` runs a long campaign)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("long" if os.environ.get("CNNCALC_FUZZ") == "long" else "default")
)
