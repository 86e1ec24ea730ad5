"""Load-generator process for the stream benchmark: N WebSocket clients subscribed to one market.

    python benchmarks/stream_clients.py URL [URL ...] --clients N --key KEY --out FILE

Clients are spread over the given service URLs (ws://...), each subscribes to
`lmp` PJM RT5 (every location) and records, for every `data` message, the
`interval_start` of its first row and the wall-clock time (`time.time()`, shared
with the writer on the same host) it was received. "ready" is printed once every
client is subscribed; the process then runs until its stdin closes, measures one
ping/pong round trip per client (the transport's floor), writes its records to
FILE as JSON and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field

import websockets

SUBSCRIBE = {"type": "subscribe", "dataset": "lmp", "iso": "PJM", "market": "RT5", "locations": None}


@dataclass(slots=True)
class Client:
    """One connection's received (interval_start, time) pairs and its ping round trip."""

    received: list[tuple[str, float]] = field(default_factory=list)
    ping_s: float | None = None
    closed: str | None = None


async def _run_client(
    url: str, key: str, client: Client, subscribed: asyncio.Event, stop: asyncio.Event
) -> None:
    async with websockets.connect(
        f"{url}/v1/stream", additional_headers={"X-API-Key": key}, max_queue=None, ping_interval=None
    ) as ws:
        await ws.send(json.dumps(SUBSCRIBE))

        async def receive() -> None:
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "subscribed":
                    subscribed.set()
                elif kind == "data" and message.get("data"):
                    client.received.append((message["data"][0]["interval_start"], now))
                elif kind == "error":
                    client.closed = f"error: {message}"

        reader = asyncio.create_task(receive())
        await stop.wait()
        t0 = time.perf_counter()
        pong = await ws.ping()
        await pong
        client.ping_s = time.perf_counter() - t0
        reader.cancel()


async def _main(args: argparse.Namespace) -> None:
    clients = [Client() for _ in range(args.clients)]
    subscribed = [asyncio.Event() for _ in clients]
    stop = asyncio.Event()
    tasks = []
    for i, client in enumerate(clients):
        url = args.urls[i % len(args.urls)]
        tasks.append(asyncio.create_task(_run_client(url, args.key, client, subscribed[i], stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # don't stampede the accept queue
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in subscribed)), timeout=120)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    with open(args.out, "w") as fh:
        json.dump(
            {
                "received": [c.received for c in clients],
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
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
