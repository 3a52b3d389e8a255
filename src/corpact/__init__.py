"""corpact: exact, auditable corporate actions (debt tender offers, meetings, share splits)."""

__version__ = "0.1.0"
