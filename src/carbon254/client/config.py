"""Where the SDK finds the service and the caller's API key: arguments, then environment, then a file.

    Client()                                   # CARBON254_URL / CARBON254_API_KEY, else the file
    Client(base_url="https://carbon254.example.com", api_key="c254_...")

The file is TOML (`~/.config/carbon254/client.toml`, or the path in
`CARBON254_CONFIG`) with `base_url` and `api_key` keys. An argument wins over
the environment, which wins over the file; without any, the service is
`http://127.0.0.1:8000` and no key is sent (a service with `CARBON254_AUTH=off`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ENV_BASE_URL = "CARBON254_URL"
ENV_API_KEY = "CARBON254_API_KEY"
ENV_CONFIG_FILE = "CARBON254_CONFIG"
DEFAULT_CONFIG_FILE = Path("~/.config/carbon254/client.toml")


@dataclass(frozen=True, slots=True)
class Connection:
    """The service's base URL (no trailing slash) and the API key to send, if any."""

    base_url: str
    api_key: str | None


def config_file(path: str | Path | None = None) -> Path:
    """The config file to read: `path`, else `CARBON254_CONFIG`, else `~/.config/carbon254/client.toml`."""
    chosen = path if path is not None else os.environ.get(ENV_CONFIG_FILE) or DEFAULT_CONFIG_FILE
    return Path(chosen).expanduser()


def _read_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read the carbon254 client config {path}: {exc}") from None
    found: dict[str, str] = {}
    for name in ("base_url", "api_key"):
        value = parsed.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{path}: '{name}' must be a string")
        if value:
            found[name] = value
    return found


def resolve_connection(
    base_url: str | None = None, api_key: str | None = None, config: str | Path | None = None
) -> Connection:
    """The base URL and API key from the arguments, then the environment, then the config file."""
    from_file = _read_file(config_file(config))
    url = base_url or os.environ.get(ENV_BASE_URL) or from_file.get("base_url") or DEFAULT_BASE_URL
    key = api_key or os.environ.get(ENV_API_KEY) or from_file.get("api_key")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
    return Connection(url.rstrip("/"), key.strip() if key else None)
