"""`python -m carbon254.cli`: the same command as the `carbon254` script."""

from carbon254.cli.main import app

app(prog_name="carbon254")
