"""Load-generator process for the stream benchmark: N WebSocket clients subscribed to one market.

    python benchmarks/stream_clients.py URL [URL ...] --clients N --key KEY --out FILE

Clients are spread over the given service URLs (ws://...), each subscribes to
`lmp` PJM RT5 (every location) and records, for every `data` message, the
`interval_start` of its first row and the wall-clock time (`time.time()`, shared
with the writer on the same host) its last byte was received. "ready" is
printed once every client is subscribed; the process then runs until its stdin
closes, measures one ping/pong round trip per client, all clients at once
(the floor of moving one message to and from 500 connections through this
server and client), writes its records to FILE as JSON and exits.

The clients speak RFC 6455 directly over asyncio protocols (uvloop): the time
is taken as the frame's bytes arrive and messages are decoded after the run,
so 500 clients in one process add as little as possible to what they measure.
A general-purpose client library spends tens of microseconds per message,
which over 500 connections receiving one commit at once was most of the
latency measured.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import uvloop

SUBSCRIBE = {"action": "subscribe", "dataset": "lmp", "iso": "PJM", "market": "RT5"}
OP_CONTINUATION, OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask, RFC 6455 §5.3)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    repeated = (mask * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")
    return head + mask + masked


@dataclass(eq=False)
class Client(asyncio.Protocol):
    """One connection: handshake, subscribe, then keep each text frame's bytes and arrival time."""

    host: str
    path: str
    key: str
    subscribed: asyncio.Future[None]
    received: list[tuple[bytes, float]] = field(default_factory=list)
    ping_s: float | None = None
    closed: str | None = None
    _transport: asyncio.Transport | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _open: bool = False
    _fragments: bytearray | None = None
    _pong: asyncio.Future[float] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but write like one.
        self._transport = cast(asyncio.Transport, transport)
        nonce = base64.b64encode(os.urandom(16)).decode()
        self._transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n"
                f"X-API-Key: {self.key}\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if self.closed is None and self._pong is None:
            self.closed = f"connection lost: {exc!r}"
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(self.closed or "closed"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buffer += data
        if not self._open:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self._buffer[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status:
                self.closed = f"handshake refused: {status!r}"
                assert self._transport is not None
                self._transport.close()
                return
            del self._buffer[: end + 4]
            self._open = True
            self._send(OP_TEXT, json.dumps(SUBSCRIBE).encode())
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            size, offset = second & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < offset + size:
                return
            payload = bytes(buffer[offset : offset + size])
            del buffer[: offset + size]
            self._on_frame(first & 0x80 != 0, first & 0x0F, payload, now)

    def _on_frame(self, fin: bool, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (OP_TEXT, OP_CONTINUATION):
            if not fin:
                self._fragments = (self._fragments or bytearray()) + payload
                return
            if self._fragments is not None:
                payload, self._fragments = bytes(self._fragments + payload), None
            if self.subscribed.done():
                self.received.append((payload, now))
                return
            message = json.loads(payload)
            if message.get("type") == "subscribed":
                self.subscribed.set_result(None)
            elif message.get("type") == "error":
                self.closed = f"error: {message}"
        elif opcode == OP_PING:
            self._send(OP_PONG, payload)
        elif opcode == OP_PONG and self._pong is not None and not self._pong.done():
            self._pong.set_result(now)
        elif opcode == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.closed = f"closed by the server: {code} {payload[2:]!r}"

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self._transport is not None
        self._transport.write(_frame(opcode, payload))

    async def ping(self) -> None:
        """One ping/pong round trip, in seconds, into `ping_s`."""
        self._pong = asyncio.get_running_loop().create_future()
        sent = time.time()
        self._send(OP_PING, b"floor")
        self.ping_s = await asyncio.wait_for(self._pong, 10) - sent

    def close(self) -> None:
        """Send a normal close and drop the connection."""
        if self._transport is not None and not self._transport.is_closing():
            self._send(OP_CLOSE, struct.pack("!H", 1000))
            self._transport.close()

    def data_messages(self) -> list[tuple[str, float]]:
        """(interval_start of the first row, arrival time) of every `data` message received."""
        kept = []
        for payload, at in self.received:
            message = json.loads(payload)
            if message.get("type") == "data" and message.get("data"):
                kept.append((message["data"][0]["interval_start"], at))
        return kept


async def _connect(url: str, key: str) -> Client:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{url} names no host and port")
    loop = asyncio.get_running_loop()
    client = Client(parts.netloc, f"{parts.path.rstrip('/')}/v1/stream", key, loop.create_future())
    await loop.create_connection(lambda: client, parts.hostname, parts.port)
    return client


async def _main(args: argparse.Namespace) -> None:
    clients: list[Client] = []
    for i in range(args.clients):
        clients.append(await _connect(args.urls[i % len(args.urls)], args.key))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # don't stampede the accept queue
    await asyncio.wait_for(asyncio.gather(*(c.subscribed for c in clients)), timeout=120)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    pinged = await asyncio.gather(*(c.ping() for c in clients), return_exceptions=True)
    failures = [repr(p) for p in pinged if isinstance(p, BaseException)]
    for client in clients:
        client.close()
    with open(args.out, "w") as fh:
        json.dump(
            {
                "received": [c.data_messages() for c in clients],
                "ping_s": [c.ping_s for c in clients if c.ping_s is not None],
                "failures": failures + [c.closed for c in clients if c.closed],
            },
            fh,
        )


def main() -> None:
    """Parse the command line and run the clients."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--out", required=True)
    uvloop.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
