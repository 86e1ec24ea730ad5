"""The add-in's JavaScript (static/c254.js, functions.js) under Node against a real platform process.

A uvicorn process serves a data dir of simulated ERCOT and PJM prices with
`CARBON254_AUTH=required`; tenants and keys are made with the `carbon254`
CLI. `node --experimental-websocket --test tests/excel/js/` then runs the
JS tests (values against REST, defaults, errors, batching, LIVE), which read
the server's URL, the keys and how to commit more data from environment
variables, and commit with the same CLI. An admin key lets the LIVE tests make
their own tenants, change their entitlements and revoke their keys through
`/v1/admin` while cells stream.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

JS_TESTS = Path(__file__).resolve().parent / "js"
CLI = str(Path(sys.executable).with_name("carbon254"))
NODES = "3"
STARTUP_TIMEOUT_S = 30.0
NODE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Server:
    """The running platform: where it listens, its data dir and two keys."""

    base_url: str
    data_dir: Path
    key: str  # a tenant entitled to everything
    pjm_only_key: str  # a tenant entitled to PJM only
    admin_key: str  # an admin tenant's, for /v1/admin


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(*args: str, data_dir: Path) -> str:
    done = subprocess.run(
        [CLI, *args, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"carbon254 {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _key(tenant: str, data_dir: Path, *entitlements: str) -> str:
    _cli("tenants", "create", tenant, *entitlements, data_dir=data_dir)
    return _cli("keys", "create", "--tenant", tenant, data_dir=data_dir).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A platform process over simulated 2024-03-01..03 ERCOT and PJM LMPs and reserve prices, auth on."""
    root = tmp_path_factory.mktemp("excel-live")
    data_dir = root / "data"
    _cli(
        "simulate", "--start", "2024-03-01", "--end", "2024-03-03", "--isos", "ERCOT,PJM",
        "--nodes", NODES, "--datasets", "lmp,as_price", data_dir=data_dir,
    )  # fmt: skip
    key = _key("excel-all", data_dir)
    pjm_only_key = _key("excel-pjm", data_dir, "--isos", "PJM")
    admin_key = _key("excel-admin", data_dir, "--admin")
    port = _free_port()
    env = {
        **os.environ,
        "CARBON254_DATA_DIR": str(data_dir),
        "CARBON254_AUTH": "required",
        "CARBON254_STREAM_HEARTBEAT_S": "1",
    }
    log_path = root / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "--factory", "carbon254.service.app:create_app",
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            ],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"server exited with {proc.returncode}: {log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"server not up after {STARTUP_TIMEOUT_S} s: {log_path.read_text()}")
                time.sleep(0.1)
            yield Server(base, data_dir, key, pjm_only_key, admin_key)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_the_add_in_is_served_by_the_platform_process_with_auth_required(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        manifest = http.get("/excel/manifest.xml")
        assert manifest.status_code == 200
        assert f"{server.base_url}/excel/taskpane.html" in manifest.text
        assert http.get("/excel/c254.js").status_code == 200
        assert http.get("/v1/locations").status_code == 401


def test_the_functions_pass_their_node_tests(server: Server) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the add-in's JavaScript tests need Node 20+")
    env = {
        **os.environ,
        "C254_BASE_URL": server.base_url,
        "C254_KEY": server.key,
        "C254_PJM_ONLY_KEY": server.pjm_only_key,
        "C254_ADMIN_KEY": server.admin_key,
        "C254_CLI": CLI,
        "C254_DATA_DIR": str(server.data_dir),
        "C254_NODES": NODES,
    }
    tests = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert len(tests) >= 2
    try:
        done = subprocess.run(
            [node, "--experimental-websocket", "--test", *tests],
            env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node --test did not finish in {NODE_TIMEOUT_S} s:\n{exc.stdout!r}\n{exc.stderr!r}")
    assert done.returncode == 0, f"node --test failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "# fail 0" in done.stdout
