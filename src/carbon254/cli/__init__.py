"""The `carbon254` command: ingest, query, simulate, serve and demo (Typer + Rich).

Each command lives in its own module and only parses options, calls the
library and presents the outcome; the work itself is in the domain packages
(`ingest`, `store`, `simulate`, `demo`, `service`).
"""
