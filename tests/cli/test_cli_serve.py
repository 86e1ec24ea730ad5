"""`carbon254 serve` as a real process: ingest beside it, TLS, --only, the auth-off rule, graceful stop."""

from __future__ import annotations

import ipaddress
import json
import ssl
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cli_helpers
import httpx
import pytest
from cli_helpers import START, CliProcess, free_port, lmp_table, run_cli, write_lmp_csv
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.cli.server import is_loopback

STARTUP_S = 30
AUTH_OFF = {"CARBON254_AUTH": "off"}  # requests below carry no credentials; allowed on 127.0.0.1


def test_ingest_process_while_server_process_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    server = CliProcess(
        "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port), env=AUTH_OFF
    )
    try:
        server.wait_for(rf"at http://127\.0\.0\.1:{port} ", STARTUP_S)
        assert "The store is empty" in server.wait_for("store is empty", 5).string
        base = f"http://127.0.0.1:{port}"
        params = {"iso": "PJM", "market": "DAM", "start": "2025-01-01", "end": "2025-01-03"}
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/v1/lmp", params=params).json()["total"] == 0  # nothing stored yet

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


# --- the auth-off rule, --only and TLS options -------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_auth_off_is_refused_beyond_loopback(
    runner: CliRunner, tmp_path: Path, command: str, host: str
) -> None:
    env = AUTH_OFF if command == "serve" else {}  # the demo turns auth off itself
    result = runner.invoke(app, [command, "--data-dir", str(tmp_path), "--host", host], env=env)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "CARBON254_AUTH=off is allowed only on a loopback address" in message
    assert f"--host '{host}' is not one" in message
    assert not (tmp_path / "store").exists()  # refused before anything was loaded or served


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        *[(h, True) for h in ("127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost")],
        *[(h, False) for h in ("0.0.0.0", "::", "", "10.1.2.3", "no-such-host.invalid")],
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_unknown_only_domain_lists_the_valid_ones(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path), "--only", "data,curvez"], env=AUTH_OFF)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert (
        "--only: unknown domain 'curvez'; valid domains: ops, data, analytics, quality, graphql, stream, "
        "jobs, admin, excel" in message
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--ssl-certfile", "cert.pem"], "--ssl-certfile needs --ssl-keyfile too"),
        (["--ssl-keyfile", "key.pem"], "--ssl-keyfile needs --ssl-certfile too"),
        (["--ssl-certfile", "cert.pem", "--ssl-keyfile", "missing.pem"], "--ssl-keyfile: no such file"),
        (["--ssl-certfile", "cert.pem", "--ssl-keyfile", "cert.pem"], "cannot load the certificate and key"),
    ],
)
def test_bad_tls_options_are_clear_errors(
    runner: CliRunner, tmp_path: Path, args: list[str], expected: str
) -> None:
    write_self_signed(tmp_path)
    args = [str(tmp_path / a) if a.endswith(".pem") else a for a in args]
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path / "data"), *args], env=AUTH_OFF)
    assert result.exit_code == 1
    assert expected in " ".join(result.output.split())


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own trust anchor) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carbon254 test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_tls_and_only_serve_a_subset_over_https(tmp_path: Path) -> None:
    cert, key = write_self_signed(tmp_path)
    port = free_port()
    server = CliProcess(
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(port),
        "--only",
        "data",
        "--ssl-certfile",
        str(cert),
        "--ssl-keyfile",
        str(key),
        env=AUTH_OFF,
    )
    try:
        server.wait_for(rf"API \(data and ops\) serving .* at https://127\.0\.0\.1:{port} ", STARTUP_S)
        trusted = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trusted, timeout=10) as https:
            health = https.get("/health", headers={"X-Request-ID": "tls-check-1"})
            assert health.status_code == 200
            assert health.headers["Strict-Transport-Security"].startswith("max-age=")
            assert https.get("/ready").json()["status"] == "ready"
            assert "carbon254_http_request_duration_seconds" in https.get("/metrics").text
            lmp = https.get(
                "/v1/lmp", params={"iso": "PJM", "market": "DAM", "start": "2025-01-01", "end": "2025-01-02"}
            )
            assert lmp.status_code == 200 and lmp.json()["total"] == 0  # served: no data yet
            assert https.get("/v1/locations").status_code == 200
            quality = https.get("/v1/quality", params={"start": "2025-01-01", "end": "2025-01-02"})
            assert quality.status_code == 404 and quality.json()["code"] == "not_served"  # not served here
        with pytest.raises(httpx.ConnectError), httpx.Client(timeout=10) as untrusting:
            untrusting.get(f"https://127.0.0.1:{port}/health")  # the certificate is not publicly trusted
        with httpx.Client(timeout=10) as plain, pytest.raises(httpx.HTTPError):
            plain.get(f"http://127.0.0.1:{port}/health")  # no plain HTTP on a TLS port
        access = server.wait_for(r'"request_id":"tls-check-1"', 10).string
        record = json.loads(access)
        assert (
            record["logger"] == "carbon254.access" and record["path"] == "/health" and record["status"] == 200
        )
    finally:
        code = server.terminate()
    assert code == 0, server.output


# --- graceful shutdown -------------------------------------------------------------------------

# `carbon254 serve` with one extra route that answers only once a flag file exists, so a
# request can be held in flight across SIGTERM for as long as the test needs, without timing.
SLOW_SERVE = """
import sys, time
from pathlib import Path
from carbon254.service.routes import health

@health.router.get("/held-for-test")
def held(flag: str) -> dict:
    deadline = time.monotonic() + 60
    while not Path(flag).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"released": Path(flag).exists()}

from carbon254.cli.main import app
app(sys.argv[1:], prog_name="carbon254")
"""


def in_flight(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    line = next(line for line in text.splitlines() if line.startswith("carbon254_http_requests_in_flight "))
    return float(line.split()[1])


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_helpers, "carbon254_command", lambda: [sys.executable, "-c", SLOW_SERVE])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    flag = tmp_path / "release"
    server = CliProcess("serve", "--data-dir", str(tmp_path / "data"), "--port", str(port), env=AUTH_OFF)
    answers: list[httpx.Response] = []
    try:
        server.wait_for(rf"at http://127\.0\.0\.1:{port} ", STARTUP_S)
        held = threading.Thread(
            target=lambda: answers.append(
                httpx.get(f"{base}/held-for-test", params={"flag": str(flag)}, timeout=60)
            )
        )
        held.start()
        poll_until(lambda: in_flight(base) >= 2, "the held request to be in flight")  # it and the scrape

        server.proc.terminate()  # SIGTERM while the request is held
        server.wait_for("Shutting down", 20)

        def refused() -> bool:
            try:
                httpx.get(f"{base}/health", timeout=2)
            except httpx.TransportError:
                return True
            return False

        poll_until(refused, "the server to stop accepting connections")
        assert server.proc.poll() is None  # still running: waiting for the held request
        flag.touch()
        held.join(timeout=30)
        assert answers and answers[0].status_code == 200
        assert answers[0].json() == {"released": True}
    finally:
        flag.touch()
        code = server.terminate()
    assert code == 0, server.output
    assert "Server stopped." in server.output
    assert "Traceback" not in server.output
    assert "Cancel" not in server.output  # not cut off by the grace timeout


def poll_until(condition: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CARBON254_ONLY": "data,nope"}, "unknown domain 'nope'; valid domains: ops, data"),
        ({"CARBON254_CORS_ORIGINS": "https://not-a-json-list"}, "invalid CARBON254_* setting"),
        ({"CARBON254_SHUTDOWN_GRACE_S": "-1"}, "shutdown_grace_s"),
    ],
)
def test_bad_environment_is_a_clear_error(
    runner: CliRunner, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path)], env={**AUTH_OFF, **env})
    assert result.exit_code == 1
    assert expected in " ".join(result.output.split())
    assert "Traceback" not in result.output
