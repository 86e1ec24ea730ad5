"""The `Settings` a command runs with: the environment (`CARBON254_*`) with its options on top."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from carbon254.cli.console import CliError
from carbon254.config import Settings


def load_settings(**options: Any) -> Settings:
    """Settings from the environment with `options` (fields) on top; None options are left to it.

    A bad value is a `CliError` naming the setting, not a traceback: e.g.
    `invalid CARBON254_* setting: nyiso.daily_days: Input should be a valid integer`.
    """
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid CARBON254_* setting: {problems}") from None
    except SettingsError as exc:  # a value the environment source could not decode (e.g. bad JSON)
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise CliError(f"invalid CARBON254_* setting: {exc}{cause}") from None
