"""`carbon254 serve` as a real process, with `carbon254 ingest` processes writing to its data dir."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from cli_helpers import START, CliProcess, free_port, lmp_table, run_cli, write_lmp_csv

STARTUP_S = 30


def test_ingest_process_while_server_process_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = CliProcess("serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port))
    try:
        server.wait_for(rf"at http://127\.0\.0\.1:{port} ", STARTUP_S)
        assert "The store is empty" in server.wait_for("store is empty", 5).string
        base = f"http://127.0.0.1:{port}"
        params = {"iso": "PJM", "market": "DAM", "start": "2025-01-01", "end": "2025-01-03"}
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/v1/lmp", params=params).status_code == 404  # nothing stored yet

            first = write_lmp_csv(tmp_path / "first.csv", lmp_table(hours=24), offset="-05:00")
            done = run_cli("ingest", str(first), "--data-dir", str(data_dir))
            assert done.returncode == 0, done.stdout + done.stderr
            body = http.get("/v1/lmp", params=params).json()
            assert body["count"] == 24

            later = lmp_table(hours=24, start=START + timedelta(days=1))
            more = [
                write_lmp_csv(tmp_path / "later.csv", later, offset="Z"),
                write_lmp_csv(tmp_path / "east.csv", lmp_table("EASTERN HUB", hours=48), offset="-05:00"),
            ]
            done = run_cli("ingest", *map(str, more), "--data-dir", str(data_dir))
            assert done.returncode == 0, done.stdout + done.stderr
            body = http.get("/v1/lmp", params=params).json()
            assert body["count"] == 96
            assert {row["location"] for row in body["data"]} == {"WESTERN HUB", "EASTERN HUB"}
            assert body["simulated"] is False

            bad = tmp_path / "bad.csv"
            bad.write_text(first.read_text().replace("-05:00", ""))
            refused = run_cli("ingest", str(bad), "--data-dir", str(data_dir))
            assert refused.returncode == 1
            assert "without a UTC offset" in " ".join(refused.stderr.split())
            assert http.get("/v1/lmp", params=params).json()["count"] == 96
    finally:
        code = server.terminate()
    assert code == 0, server.output
    assert "Server stopped." in server.output
    assert "lock" not in server.output.lower()
    assert "Traceback" not in server.output


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    server = CliProcess("serve", "--data-dir", str(tmp_path / "a"), "--port", str(port))
    try:
        server.wait_for(rf"http://127\.0\.0\.1:{port}", STARTUP_S)
        second = run_cli("serve", "--data-dir", str(tmp_path / "b"), "--port", str(port), timeout=STARTUP_S)
        assert second.returncode == 1
        assert f"--port: cannot listen on 127.0.0.1:{port}" in " ".join(second.stderr.split())
        assert "Traceback" not in second.stderr
    finally:
        assert server.terminate() == 0
