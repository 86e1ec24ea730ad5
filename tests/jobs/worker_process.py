"""A job worker process for the tests: `python worker_process.py METADATA_URL NAME LEASE_S POLL_S`.

Runs `carbon254.jobs.worker.run_worker` with the test kinds on local:// (two
processes) until SIGTERM; prints `ready` once it is about to claim jobs.
"""

from __future__ import annotations

import sys

from sample_kinds import registry

from carbon254.config import Settings
from carbon254.jobs.worker import run_worker


def main(url: str, name: str, lease_s: str, poll_s: str) -> int:
    settings = Settings(
        metadata_url=url, compute="local://?processes=2", job_lease_s=float(lease_s), job_poll_s=float(poll_s)
    )
    print("ready", flush=True)
    run_worker(settings, registry(), name=name)  # the object store of the settings: file:// in the data dir
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
