"""liveloop: a closed-loop live-shopping platform for cross-border sellers."""

__version__ = "0.1.0"
