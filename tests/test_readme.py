"""The README is a test: each of its examples, and each script in examples/, runs against a fresh demo.

The examples are read from README.md itself, so an example is tested as it
is written. A demo data dir is built the way `carbon254 demo` builds it
(`carbon254.demo`, a year of history at fewer nodes) and `carbon254 serve`
runs on it with authentication off on 127.0.0.1, as the demo runs. Then:

* every bash block runs command by command, in order, in one working
  directory: `curl` lines (pointed at the test server) must answer 200 with
  rows; `python -c` lines must print rows; `carbon254` commands run in
  process (the `carbon254` script's own Typer app) with the demo as their
  data dir and must succeed with data; ISO downloads go to a replay server
  of the real NYISO files in ../shared/data. The test server itself is the
  README's local `serve` command, run for real; the other `serve` commands
  run in process with uvicorn's listening loop replaced by a client that
  checks what they serve;
* Python blocks run with the test server's URL and a key, and must return
  rows; GraphQL blocks and the stream subscription are sent to the server;
* the Excel formulas run through the add-in's own JavaScript under Node;
* every script in examples/ runs against the server (and with `--local`
  when it offers it).

The first two blocks are the README's promise (set up and run the demo; set
up and run the tests): they must stay first and exactly as they are, the
first is checked piece by piece (it starts a demo that runs until Ctrl-C)
and `.ci/run` runs the second. Anything a test cannot run is on `NOT_RUN`,
with the test that covers it.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from websockets.sync.client import connect

from carbon254.cli import serve as serve_cli
from carbon254.cli.main import app
from carbon254.config import AuthMode, Settings
from carbon254.demo import DemoParams, LiveFeed, plan_demo, read_marker, run_plan
from carbon254.demo.load import mark_demo_curves
from carbon254.isos import Iso
from carbon254.metadata import MetadataDatabase, create_key, create_tenant
from carbon254.replay import ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.store import open_store
from shared_data import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI = ROOT / ".ci" / "run"
EXAMPLES = ROOT / "examples"
C254_JS = ROOT / "src" / "carbon254" / "excel" / "static" / "c254.js"
ISO_FILES = SHARED_DATA / "iso"
BIN = Path(sys.executable).parent

# The address every example is written for; the tests send it to their own server instead.
README_URL = "http://127.0.0.1:8000"
# Fewer nodes than the demo's 200 so the year loads in seconds; every hub and zone is there.
DEMO = DemoParams(nodes=3)
DEMO_DAYS = 365
STARTUP_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 120.0

# The README's local, credential-free `serve` command: the test server runs exactly this.
SERVE_COMMAND = "CARBON254_AUTH=off carbon254 serve --host 127.0.0.1"
FIRST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -c requirements.lock -e . && .venv/bin/carbon254 demo"
)
SECOND_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -q -c requirements.lock -e '.[dev]' "
    "&& .venv/bin/python -m pytest"
)

# README commands no test here runs, each with why and what covers it instead. Kept short: an
# entry the README no longer holds fails `test_every_command_is_run_or_accounted_for`.
NOT_RUN = {
    "carbon254 ingest --follow --iso ERCOT,PJM,NYISO": "polls until Ctrl+C; covered by "
    "tests/cli/test_cli_ingest_iso.py::test_follow_polls_and_stops_after_the_given_rounds",
    "carbon254 serve --host 0.0.0.0 --port 8443 --ssl-certfile /etc/carbon254/cert.pem "
    "--ssl-keyfile /etc/carbon254/key.pem": "needs TLS files and binds every interface; covered by "
    "tests/cli/test_cli_serve.py::test_tls_and_only_serve_a_subset_over_https",
    ".venv/bin/python -m pytest": "this suite itself, which .ci/run runs (test_ci_runs_the_readme_commands)",
    ".venv/bin/ruff check src tests benchmarks examples && .venv/bin/mypy": "run by .ci/run "
    "(test_ci_runs_the_readme_commands)",
    ".venv/bin/pip install -e '.[dev,bench]'": "installs packages from the package index",
    ".venv/bin/python benchmarks/run.py": "minutes of benchmarks that rewrite BENCHMARKS.md",
    "=C254.LIVE": "a streaming cell; covered by tests/excel/js/live.test.mjs through "
    "tests/excel/test_excel_functions.py::test_the_functions_pass_their_node_tests",
}
# A `serve --only` domain, and a path only a process serving it answers (any status but 404).
DOMAIN_PROBES = {
    "data": "/v1/locations?iso=ERCOT",
    "graphql": "/graphql",
    "quality": "/v1/quality?iso=ERCOT&start=today-1d&end=today",
    "admin": "/v1/admin/tenants",
}


# ------------------------------------------------------------------------------ reading the README


@dataclass(frozen=True)
class Block:
    """A fenced code block: its language, the line its opening fence is on, and its text."""

    language: str
    line: int
    text: str

    @property
    def label(self) -> str:
        return f"{self.language}@{self.line}"


@dataclass(frozen=True)
class Command:
    """One shell command of a bash block (continuation lines joined), and the line it starts on."""

    line: int
    text: str

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    @property
    def program(self) -> str:
        """The program run, after any leading `NAME=value` environment assignments."""
        return next((w for w in self.words if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", w)), "")


def readme_blocks(text: str | None = None) -> list[Block]:
    """Every fenced block of the README, in order."""
    lines = (README.read_text() if text is None else text).splitlines()
    blocks, opened, body = [], None, []
    for number, line in enumerate(lines, start=1):
        if line.startswith("```") and opened is None:
            opened, body = (line[3:].strip(), number), []
        elif line.startswith("```") and opened is not None:
            blocks.append(Block(opened[0], opened[1], "\n".join(body)))
            opened = None
        elif opened is not None:
            body.append(line)
    return blocks


def block_commands(block: Block) -> list[Command]:
    """The commands of a bash block: continuation lines joined, blank and comment-only lines left out."""
    found: list[Command] = []
    pending: tuple[int, str] | None = None
    for offset, line in enumerate(block.text.splitlines(), start=1):
        start, text = pending if pending is not None else (block.line + offset, "")
        text += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            pending = (start, text)
            continue
        pending = None
        bare = re.sub(r"\s#\s.*$", "", text)  # a trailing comment is the README's, not the command's
        if bare.strip() and not bare.lstrip().startswith("#"):
            found.append(Command(start, " ".join(bare.split())))
    return found


def _not_run(command: str) -> str | None:
    """Why `command` is not run here, when it is on `NOT_RUN`."""
    return NOT_RUN.get(command)


BLOCKS = readme_blocks()
RUN_BLOCKS = [
    b for b in BLOCKS[2:] if b.language == "bash" and any(not _not_run(c.text) for c in block_commands(b))
]
# Excel formulas with their arguments (a mention such as `=C254.BASIS(...)` is not an example).
FORMULAS = [f for f in re.findall(r"`(=C254\.(\w+)\((.*?)\))`", README.read_text()) if f[2] != "..."]


# ------------------------------------------------------------------------------------ the demo


@dataclass
class Demo:
    """The running demo: its URL, data dir, a key, a scratch directory and what commands left there."""

    url: str
    data_dir: Path
    key: str
    work: Path
    replay_url: str
    keys: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The environment every command runs in: the demo as data dir, the replay server as NYISO."""
        clean = {k: v for k, v in os.environ.items() if not k.startswith("CARBON254_")}
        return {
            **clean,
            "PATH": f"{BIN}{os.pathsep}{clean.get('PATH', '')}",
            "CARBON254_DATA_DIR": str(self.data_dir),
            "CARBON254_URL": self.url,
            "CARBON254_API_KEY": self.key,
            "CARBON254_NYISO_URL": self.replay_url,
            "CARBON254_ISO_MIN_INTERVAL_S": "0",
            "CARBON254_ISO_RETRIES": "2",
            "KEY": self.keys[-1] if self.keys else self.key,
            "COLUMNS": "200",
        }

    def written(self, text: str, key: str | None = None) -> str:
        """`text` aimed at this demo: its URL for the README's, `key` (default: the latest) for `c254_...`."""
        text = text.replace(README_URL, self.url)
        return text.replace("c254_...", key or (self.keys[-1] if self.keys else self.key))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}: {log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"the server was not up after {STARTUP_TIMEOUT_S} s: {log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo's data (the demo's own loading code), served by the README's local `serve` command."""
    root = tmp_path_factory.mktemp("readme")
    data_dir, work = root / "carbon254-data", root / "work"
    work.mkdir()
    plan = plan_demo(data_dir, DEMO, DEMO_DAYS)
    store = open_store(data_dir)
    try:
        run_plan(store, data_dir, plan)
    finally:
        store.close()
    db = MetadataDatabase(Settings(data_dir=data_dir, auth=AuthMode.REQUIRED).metadata_database_url())
    try:
        create_tenant(db, "readme")
        key = create_key(db, "readme").plaintext
        mark_demo_curves(db, plan.marker)  # as `carbon254 demo` does after loading
    finally:
        db.close()
    (command,) = [
        c for b in BLOCKS if b.language == "bash" for c in block_commands(b) if c.text == SERVE_COMMAND
    ]
    with ReplayServer(routes_for(Iso.NYISO, [ISO_FILES / "nyiso"])) as replay:
        demo = Demo("", data_dir, key, work, replay.url)
        serving = start_serve(demo, command)
        demo.url = serving.url
        try:
            wait_until_up(serving.proc, serving.url, serving.log)
            yield demo
        finally:
            code = stop(serving.proc)
        assert code == 0, serving.log.read_text()[-3000:]


# ------------------------------------------------------------------------------ running commands


def run_curl(demo: Demo, command: Command) -> None:
    """A curl line as written (URL aside): it must answer 200 with at least one row."""
    wrapper = (
        "curl() { command curl --silent --show-error --write-out '\\n%{http_code} %{content_type}' \"$@\"; }"
    )
    done = subprocess.run(
        ["bash", "-c", f"{wrapper}\n{demo.written(command.text)}"],
        cwd=demo.work, env=demo.env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body, _, status_line = done.stdout.rpartition("\n")
    status, _, media_type = status_line.partition(" ")
    assert status == "200", f"line {command.line}: HTTP {status}: {body[:500]}"
    if media_type.startswith("application/json"):
        answer = json.loads(body)
        assert answer["data"], f"line {command.line}: no rows: {body[:500]}"
    else:
        assert media_type.startswith("text/csv"), media_type
        assert len(body.splitlines()) > 1, f"line {command.line}: no rows: {body[:500]}"


def run_python_line(demo: Demo, command: Command) -> None:
    """A `python -c` line as written: it must succeed and print rows."""
    done = subprocess.run(
        ["bash", "-c", demo.written(command.text)],
        cwd=demo.work, env=demo.env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"line {command.line}: {done.stderr[-3000:]}"
    assert "Empty DataFrame" not in done.stdout and len(done.stdout.splitlines()) > 1, done.stdout


def _words_for(demo: Demo, command: Command) -> tuple[dict[str, str], list[str]]:
    """The command's own environment assignments and its words after `carbon254`, aimed at the demo."""
    words = shlex.split(demo.written(command.text), comments=True)
    env: dict[str, str] = {}
    while "=" in words[0] and words[0] != "carbon254":
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "carbon254", command.text
    return env, [os.path.expandvars(w) for w in words[1:]]


def _local_file(demo: Demo, word: str) -> None:
    """A file the command names that the README's reader has: one of the ISO's own, linked here.

    Paths under `examples/` are the repository's own examples, as in a clone.
    """
    if word.startswith("examples/"):
        if not (demo.work / "examples").exists():
            (demo.work / "examples").symlink_to(EXAMPLES)
        return
    if not re.search(r"\.(zip|csv|xml|json)$", word) or (demo.work / word).exists():
        return
    found = sorted(ISO_FILES.rglob(word))
    assert found, f"{word} is not among the real ISO files in {ISO_FILES}"
    (demo.work / word).symlink_to(found[0])


def _no_empty_answer(output: str) -> None:
    assert not re.search(r"^No .*rows", output, re.MULTILINE), output


def _invoke(demo: Demo, command: Command, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], str]:
    """Run a `carbon254` command in process, in the scratch directory; its words and its output.

    The `carbon254` script is this Typer app; the command sees the demo's
    environment, its own `NAME=value` assignments, and no other CARBON254_*.
    """
    env, args = _words_for(demo, command)
    monkeypatch.chdir(demo.work)
    overrides = {**demo.env(), **env}
    stale = {k: None for k in os.environ if k.startswith("CARBON254_") and k not in overrides}
    result = CliRunner().invoke(app, args, env={**overrides, **stale})
    assert result.exit_code == 0, (
        f"line {command.line}: {command.text}\n{result.output}\n{result.exception!r}"
    )
    return args, result.output


def run_cli(demo: Demo, command: Command, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `carbon254` command as written, with the demo as its data dir; it must yield data."""
    words = _words_for(demo, command)[1]
    for before, word in zip(["", *words], words, strict=False):
        if before not in ("--output", "-o", "--chart"):  # files the command writes
            _local_file(demo, word)
    args, output = _invoke(demo, command, monkeypatch)
    _no_empty_answer(output)
    match args:
        case ["query", *_] if "-" in args:  # -o -: the CSV alone, for a pipe
            assert output.startswith("iso,market,location,"), output
            assert len(output.splitlines()) > 1, output
        case ["query", *_]:
            counted = re.search(r"^(?:Wrote )?([\d,]+) rows", output, re.MULTILINE)
            assert counted and int(counted.group(1).replace(",", "")) > 0, output
        case ["spreads", *_]:
            assert re.search(r"│ intervals\s+│\s+[1-9]", output), output
        case ["quality", *_]:
            assert re.search(r"complete \([1-9][\d,]* of", " ".join(output.split())), output
        case ["keys", "create" | "rotate", *_]:
            demo.keys.append(output.strip().splitlines()[-1])
            assert demo.keys[-1].startswith("c254_"), output
        case ["ingest", *_]:
            assert "Ingest summary" in output or "day(s) fetched" in output, output
        case ["export", *_]:
            written = demo.work / args[args.index("--output") + 1]
            assert written.is_file() and written.stat().st_size > 0, output
            assert re.search(r"wrote [1-9][\d,]* rows", output), output
        case ["simulate", *_]:
            assert re.search(r"^[1-9][\d,]* rows simulated", output, re.MULTILINE), output
        case ["curve", "build", *_] if "json" in args:
            assert json.loads(output)["months"], output
        case ["curve", "build", *_]:
            assert re.search(r"│ \d{4}-\d{2}\s+│\s+[\d.]+", output), output
        case ["curve" | "scenario" | "forecast", *_]:
            for option in ("--output", "--chart"):
                if option in args:
                    written = demo.work / args[args.index(option) + 1]
                    assert written.is_file() and written.stat().st_size > 0, output
                    if written.suffix == ".png":
                        assert written.read_bytes()[:4] == b"\x89PNG", output
            assert output.strip(), command.text
            if args[:2] == ["scenario", "run"]:
                assert "Fingerprint" in output, output
        case _:
            assert output.strip(), command.text


@dataclass
class Serving:
    """The README's `serve` command running as the test server: the process, its URL and its log."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path


def start_serve(demo: Demo, command: Command) -> Serving:
    """Start a `serve` command that names no port, as written, as a process on a free port."""
    env, args = _words_for(demo, command)
    assert "--port" not in args, command.text
    port = free_port()
    log = demo.work / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "carbon254"), *args, "--port", str(port)], cwd=demo.work, env={**demo.env(), **env},
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Serving(proc, f"http://127.0.0.1:{port}", log)


def check_domains(http: httpx.Client | TestClient, only: str | None) -> None:
    """A service answers exactly the domains `--only` names (every one without it)."""
    for domain, path in DOMAIN_PROBES.items():
        status = http.get(path).status_code
        served = only is None or domain in only.split(",")
        assert (status != 404) == served, f"--only {only}: {path} answered {status}"


def run_serve(demo: Demo, command: Command, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `serve` command as written, in process: its app is checked where uvicorn would listen."""
    if command.text == SERVE_COMMAND:  # the test server itself
        with httpx.Client(base_url=demo.url, timeout=10.0) as http:
            check_domains(http, None)
        return
    only = command.words[command.words.index("--only") + 1] if "--only" in command.words else None
    served: list[tuple[str, int]] = []

    def listen(app: Any, host: str, port: int, *, on_ready: Any = None, **_: Any) -> None:
        with TestClient(app) as client:
            if on_ready is not None:
                on_ready()
            check_domains(client, only)
        served.append((host, port))

    monkeypatch.setattr(serve_cli, "run_server", listen)
    args, output = _invoke(demo, command, monkeypatch)
    assert "Press Ctrl-C to stop." in output, output
    (where,) = served
    if "--port" in args:
        assert where[1] == int(args[args.index("--port") + 1])


# --------------------------------------------------------------------------------------- tests


def test_the_readme_opens_with_the_demo_and_the_test_commands() -> None:
    first, second = BLOCKS[:2]
    assert (first.language, first.line, first.text) == ("bash", 3, FIRST_COMMAND)
    assert (second.language, second.line, second.text) == ("bash", 7, SECOND_COMMAND)
    # The first starts a demo that runs until Ctrl-C: its pieces are checked instead.
    assert (ROOT / "requirements.lock").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["carbon254"] == "carbon254.cli.main:app"
    assert (BIN / "carbon254").is_file()
    demo_help = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert demo_help.exit_code == 0 and "Run the self-contained demo" in demo_help.output


def test_ci_runs_the_readme_commands() -> None:
    ci = CI.read_text().splitlines()
    assert SECOND_COMMAND in ci  # the README's test command, as CI's test step
    for tooling in (".venv/bin/ruff check src tests benchmarks examples", ".venv/bin/mypy"):
        assert any(line.startswith(tooling) for line in ci), tooling


def test_every_command_is_run_or_accounted_for() -> None:
    runnable = {"curl", "python", "carbon254"}
    commands = [c for b in BLOCKS[2:] if b.language == "bash" for c in block_commands(b)]
    assert len(commands) > 25
    for command in commands:
        assert command.program in runnable or _not_run(command.text), (
            f"README line {command.line} is neither run by this test nor on NOT_RUN: {command.text}"
        )
        if command.program == "python":
            assert command.words[1] == "-c", command.text
    listed = {c.text for c in commands} | {f"=C254.{name}" for _, name, _ in FORMULAS}
    assert set(NOT_RUN) <= listed, f"NOT_RUN names what the README no longer holds: {set(NOT_RUN) - listed}"
    languages = {b.language for b in BLOCKS[2:]}
    assert languages <= {"bash", "python", "graphql", "json", ""}, languages


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=lambda b: b.label)
def test_bash_block(demo: Demo, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    if "--iso NYISO" in block.text and not ISO_FILES.is_dir():
        pytest.skip(f"real NYISO files not found at {ISO_FILES}")
    for command in block_commands(block):
        if _not_run(command.text):
            continue
        if command.program == "curl":
            run_curl(demo, command)
        elif command.program == "python":
            run_python_line(demo, command)
        elif command.words[command.words.index("carbon254") + 1] == "serve":
            run_serve(demo, command, monkeypatch)
        else:
            run_cli(demo, command, monkeypatch)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "python"], ids=lambda b: b.label)
def test_python_block(demo: Demo, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with the test server's URL and a key, in the scratch directory (charts it writes land
    there); the last expression must hold rows."""
    monkeypatch.chdir(demo.work)
    tree = ast.parse(demo.written(block.text, key=demo.key))
    last = tree.body.pop()
    assert isinstance(last, ast.Expr), "the block should end with the expression it shows"
    namespace: dict[str, Any] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, f"README.md:{block.line}", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), f"README.md:{block.line}", "eval"), namespace)
    if "client" in namespace:
        namespace["client"].close()
    assert len(value) > 0, value


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "graphql"], ids=lambda b: b.label)
def test_graphql_block(demo: Demo, block: Block) -> None:
    answer = httpx.post(f"{demo.url}/graphql", json={"query": block.text}, timeout=60.0)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    for name, value in body["data"].items():
        rows = value["rows"] if isinstance(value, dict) else value
        assert rows, f"{name} answered no rows"


def test_stream_subscription(demo: Demo) -> None:
    """The subscribe message as written; the demo's live feed then publishes an interval, which arrives."""
    (block,) = [b for b in BLOCKS if b.language == "json"]
    subscribe = json.loads(block.text)
    with connect(demo.url.replace("http", "ws") + "/v1/stream", open_timeout=30) as ws:
        ws.send(block.text)
        reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "subscribed", reply
        marker = read_marker(demo.data_dir)
        assert marker is not None
        store = open_store(demo.data_dir)
        try:
            published = LiveFeed(store, marker.params, marker.loaded_through).publish_next()
        finally:
            store.close()
        deadline = time.monotonic() + 30
        while True:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["type"] == "data":
                break
    rows = message["data"]
    assert (message["iso"], message["market"]) == (subscribe["iso"], subscribe["market"])
    assert {r["location"] for r in rows} == set(subscribe["locations"])
    assert rows[-1]["interval_start"].startswith(published.interval_start.strftime("%Y-%m-%dT%H:%M"))


RUN_FORMULAS = [f for f in FORMULAS if not _not_run(f"=C254.{f[1]}")]


@pytest.mark.parametrize(("formula", "name", "arguments"), RUN_FORMULAS, ids=[f[1] for f in RUN_FORMULAS])
def test_excel_formula(demo: Demo, formula: str, name: str, arguments: str) -> None:
    """Each formula through the add-in's own JavaScript (`invoke`), as Excel would run it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the add-in's JavaScript needs Node 20+")
    script = f"""
        import {{ Platform, invoke }} from {json.dumps(C254_JS.as_uri())};
        const platform = new Platform({{
          baseUrl: {json.dumps(demo.url)}, credential: () => {json.dumps(demo.key)}, fetch,
          setTimeout, clearTimeout, timeoutMs: 60000,
        }});
        console.log(JSON.stringify(await invoke(platform, {json.dumps(name)}, [{arguments}])));
    """
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{formula}: {done.stderr[-3000:]}"
    matrix = json.loads(done.stdout)
    if len(matrix) == 1 and len(matrix[0]) == 1:  # a single value (=C254.CURVE of one month and block)
        assert isinstance(matrix[0][0], float | int), (formula, matrix)
        return
    header, *rows = matrix
    assert rows and all(len(row) == len(header) for row in rows), (formula, header, rows[:2])


SCRIPTS = sorted(EXAMPLES.glob("*.py"))
SCRIPT_RUNS = [(s, "service") for s in SCRIPTS] + [
    (s, "local") for s in SCRIPTS if "--local" in s.read_text()
]


@pytest.mark.parametrize(("script", "mode"), SCRIPT_RUNS, ids=[f"{s.name}-{m}" for s, m in SCRIPT_RUNS])
def test_example_script(demo: Demo, script: Path, mode: str) -> None:
    args = ["--local", str(demo.data_dir)] if mode == "local" else []
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=demo.work, env=demo.env(), capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines and not any("nan" in line.split() for line in lines), done.stdout
    if script.name == "sdk_quickstart.py":
        averages, onpeak, basis, suggestions, quality = lines
        assert averages.startswith("30-day average LMP ($/MWh): {'AEP-DAYTON HUB': ")
        assert int(onpeak.removeprefix("on-peak days: ")) >= 5  # of the last two weeks' weekdays
        assert re.fullmatch(r"basis .+ - WESTERN HUB: mean -?\d+\.\d\d \$/MWh over 168 hours", basis), basis
        assert suggestions.startswith("suggestions: ['WESTERN HUB'")
        assert quality == "DAM completeness: 100% over 7 days"
