"""The native-ISO paths of `carbon254 ingest`: ISO files, downloads (backfill) and `--follow`.

Each payload is parsed by its report's pure parser and written as one atomic
batch; a payload that fails is quarantined under the data directory with the
reason and the job goes on. Summaries go to stdout, problems to stderr, and
the exit code is 1 when anything was quarantined or could not be downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carbon254.cli.console import CliError, console, err_console, fail, interrupted
from carbon254.cli.stores import open_cli_store
from carbon254.config import Settings
from carbon254.ingest.backfill import BackfillReport, DayOutcome, backfill, market_days, pending_days
from carbon254.ingest.clients import client_for
from carbon254.ingest.follow import FollowTarget, follow
from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest, PayloadOutcome
from carbon254.ingest.quarantine import Quarantine
from carbon254.ingest.watermark import Watermarks
from carbon254.isos import Iso
from carbon254.markets.registry import NoTarget, UnknownReport, connector_for, detect_report, target_for
from carbon254.schema import Dataset
from carbon254.store import Store


@dataclass(frozen=True, slots=True)
class NativeFileOutcome:
    """One native file: its payload outcome, or why it could not even be matched to a report.

    `kept` is where a file no report matches was quarantined.
    """

    path: Path
    outcome: PayloadOutcome | None
    error: str | None
    kept: Path | None = None


def _open(store_url: str, data_dir: Path) -> tuple[Store, NativeIngest]:
    """The store, and the ingest writing to it with its ledger and quarantine in `data_dir`."""
    try:
        store = open_cli_store(store_url, data_dir)
    except CliError as exc:
        fail(exc.message, exc.hint)
    return store, NativeIngest(store, IngestLedger(data_dir), Quarantine(data_dir))


def _payload_row(table: Table, label: str, o: PayloadOutcome | None, kept: bool = False) -> None:
    if o is None:
        status = "[red]quarantined[/]" if kept else "[red]rejected[/]"
        table.add_row(escape(label), "?", "-", "-", "0", "-", status)
        return
    e = o.entry
    status = "[red]quarantined[/]" if not o.ok else ("[green]written[/]" if e.rows_written else "unchanged")
    table.add_row(
        escape(label),
        escape(o.report.name),
        f"{e.rows:,}" if o.ok else "-",
        f"{e.duplicates:,}" if o.ok else "-",
        f"{e.rows_written:,}",
        f"{e.revisions:,}" if o.ok else "-",
        status,
    )


def _payload_table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("file", "report", "rows", "duplicates refused", "rows written", "revisions"):
        table.add_column(name, justify="left" if name in ("file", "report") else "right")
    table.add_column("status")
    return table


def ingest_native_files(paths: Sequence[Path], iso: Iso, store_url: str, data_dir: Path) -> None:
    """Parse ISO files in their native published format and write each as one batch."""
    store, ingest = _open(store_url, data_dir)
    results: list[NativeFileOutcome] = []
    try:
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError as exc:
                results.append(NativeFileOutcome(path, None, f"{path.name}: cannot read it ({exc.strerror})"))
                continue
            try:
                report = detect_report(iso, path.name, data)
            except UnknownReport as exc:
                kept = ingest.refuse_unknown(iso.value, path.name, data, str(exc))
                results.append(NativeFileOutcome(path, None, str(exc), kept.path))
                continue
            results.append(NativeFileOutcome(path, ingest.ingest(report, path.name, data, url=None), None))
    except KeyboardInterrupt:
        interrupted(f"{len(results)} file(s) were handled before the interruption; the file in hand was not.")
    finally:
        store.close()
    table = _payload_table("Ingest summary")
    for r in results:
        _payload_row(table, r.path.name, r.outcome, kept=r.kept is not None)
    console.print(table)
    problems = [r.error or (r.outcome.error if r.outcome else None) for r in results]
    problems = [p for p in problems if p]
    for r in results:
        if r.outcome is not None and r.outcome.quarantined is not None:
            err_console.print(
                f"[bold red]Quarantined[/] {escape(r.path.name)}: {escape(r.outcome.quarantined.error)}\n"
                f"  kept at {escape(str(r.outcome.quarantined.path))}"
            )
        elif r.kept is not None:
            err_console.print(
                f"[bold red]Quarantined[/] {escape(r.error or '')}\n  kept at {escape(str(r.kept))}"
            )
        elif r.error:
            err_console.print(f"[bold red]Rejected[/] {escape(r.error)}")
    if problems:
        fail(f"{len(problems)} of {len(results)} file(s) not written; nothing from them reached the store")


def _day_label(outcome: DayOutcome) -> str:
    if outcome.skipped:
        return "done before"
    if outcome.error:
        return "[red]download failed[/]"
    if not all(p.ok for p in outcome.payloads):
        return "[red]quarantined[/]"
    return "[green]ok[/]" if outcome.payloads else "nothing published"


def _backfill_summary(report: BackfillReport) -> Table:
    t = report.target
    table = Table(
        title=f"{report.iso.value} {t.dataset.value}/{t.market} backfill ({t.report.name})",
        title_justify="left",
    )
    for name in ("day", "payloads", "rows written", "revisions", "status"):
        table.add_column(name, justify="left" if name in ("day", "status") else "right")
    for d in report.days:
        table.add_row(
            d.day.isoformat(),
            str(len(d.payloads)) if not d.skipped else "-",
            f"{sum(p.entry.rows_written for p in d.payloads):,}",
            f"{sum(p.entry.revisions for p in d.payloads):,}",
            _day_label(d),
        )
    return table


def download(
    iso: Iso,
    dataset: Dataset,
    market: str,
    start: date,
    end: date,
    settings: Settings,
    *,
    days: Sequence[date] | None = None,
    force: bool = False,
) -> None:
    """Backfill `start` to `end` (exclusive) market days of one target, or exactly `days` when given.

    `settings` say where the store and data dir are and how to reach the ISO
    (its `CARBON254_<ISO>_*` settings, `CARBON254_ISO_*`).
    """
    try:
        target = target_for(iso, dataset, market)
    except NoTarget as exc:
        fail(str(exc))
    watermarks = Watermarks(settings.data_dir)
    wanted = list(days) if days is not None else market_days(start, end)
    to_fetch = pending_days(iso, target, wanted, watermarks, force)
    store, ingest = _open(settings.store, settings.data_dir)
    connector = connector_for(iso, settings)
    report: BackfillReport | None = None
    try:
        with (
            client_for(iso, settings, connector) as client,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task(f"{iso.value} {dataset.value}/{market}", total=len(to_fetch))

            def advance(outcome: DayOutcome) -> None:
                if not outcome.skipped:
                    progress.update(task, advance=1, description=f"{iso.value} {market} {outcome.day}")

            report = backfill(
                connector, client, target, wanted, ingest, watermarks, force=force, on_day=advance
            )
    except KeyboardInterrupt:
        interrupted("days completed before the interruption are kept; rerun the same command to resume.")
    finally:
        store.close()
    console.print(_backfill_summary(report))
    skipped = sum(1 for d in report.days if d.skipped)
    console.print(
        f"{len(report.days) - skipped} day(s) fetched, {skipped} already done; "
        f"{report.rows_written:,} rows written, {report.revisions:,} revisions"
    )
    for d in report.failed_days:
        err_console.print(f"[bold red]Download failed[/] {d.day}: {escape(d.error or '')}")
    for p in report.quarantined:
        q = p.quarantined
        if q is not None:
            err_console.print(
                f"[bold red]Quarantined[/] {escape(p.name)}: {escape(q.error)}\n  kept at {q.path}"
            )
    if report.failed_days or report.quarantined:
        fail(
            f"{len(report.failed_days)} day(s) failed to download and {len(report.quarantined)} payload(s) "
            "were quarantined; rerun to retry them"
        )


def follow_isos(
    isos: Sequence[Iso],
    dataset: Dataset | None,
    market: str | None,
    settings: Settings,
    *,
    polls: int | None,
    interval_s: float | None,
) -> None:
    """Poll every matching target of `isos` at its publication cadence until interrupted, per `settings`."""
    targets: list[FollowTarget] = []
    connectors = {iso: connector_for(iso, settings) for iso in isos}
    clients = {iso: client_for(iso, settings, connector) for iso, connector in connectors.items()}
    for iso, connector in connectors.items():
        for t in connector.targets:
            if (dataset is None or t.dataset is dataset) and (market is None or t.market == market):
                targets.append(FollowTarget(connector, clients[iso], t))
    if not targets:
        fail("nothing to follow: no target of the given ISO(s) matches --dataset/--market")
    store, ingest = _open(settings.store, settings.data_dir)

    def show(target: FollowTarget, outcome: DayOutcome) -> None:
        written = sum(p.entry.rows_written for p in outcome.payloads)
        if outcome.error:
            err_console.print(f"{escape(target.label)} {outcome.day}: [red]{escape(outcome.error)}[/]")
        for p in outcome.payloads:
            if p.quarantined is not None:
                err_console.print(
                    f"{escape(target.label)} quarantined {escape(p.name)}: {escape(p.error or '')}"
                )
        if written:
            console.print(f"{escape(target.label)} {outcome.day}: {written:,} new rows")

    console.print(f"Following {len(targets)} target(s); Ctrl+C stops.")
    try:
        follow(
            targets,
            ingest,
            polls=polls,
            interval=timedelta(seconds=interval_s) if interval_s is not None else None,
            on_poll=show,
        )
    except KeyboardInterrupt:
        console.print("Stopped following; everything committed so far is kept.")
    finally:
        for client in clients.values():
            client.close()
        store.close()
