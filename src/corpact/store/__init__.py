"""Storage shell: SQLAlchemy models, packaged Alembic migrations and the JournalStore."""

from corpact.store.engine import DB_ENV, DEFAULT_URL
from corpact.store.faults import CRASH_POINTS, FaultPlan, SimulatedCrash
from corpact.store.journal_store import JournalStore

__all__ = ["CRASH_POINTS", "DB_ENV", "DEFAULT_URL", "FaultPlan", "JournalStore", "SimulatedCrash"]
