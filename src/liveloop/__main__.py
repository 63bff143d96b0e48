"""Allow `python -m liveloop`."""

from liveloop.cli import app

app()
