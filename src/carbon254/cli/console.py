"""Where the CLI writes, and how it reports a user's mistake: one red line on stderr, exit code 1.

User-supplied text is escaped before printing, since file names and
validation messages may contain square brackets that Rich would otherwise
read as markup.
"""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Consoles look up sys.stdout/sys.stderr on every write, so they follow
# redirections (tests' CliRunner, pipes) made after import.
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A mistake or condition the user can fix; the message is shown as is, without a traceback."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def print_error(message: str, hint: str | None = None) -> None:
    """Print `message` (and an optional hint) as a CLI error on stderr."""
    err_console.print(f"[bold red]Error:[/] {escape(message)}")
    if hint:
        err_console.print(f"[dim]{escape(hint)}[/]")


def fail(message: str, hint: str | None = None, code: int = EXIT_ERROR) -> NoReturn:
    """Print an error and leave the command with exit code `code` (1 by default)."""
    print_error(message, hint)
    raise typer.Exit(code)


def interrupted(what: str) -> NoReturn:
    """Leave after Ctrl-C/SIGTERM with exit code 130, saying what state things were left in."""
    err_console.print(f"[yellow]Interrupted.[/] {escape(what)}")
    raise typer.Exit(EXIT_INTERRUPTED)
