"""Share splits on a record-holder register: authority, execution, fractions, awards."""

from corpact.split.engine import apply_split
from corpact.split.loader import load_split, meeting_authority
from corpact.split.ratio import Direction, RatioRange, SplitRatio
from corpact.split.register import Register, RegisterEntry, load_register, register_csv
from corpact.split.result import (
    EVENT_KIND,
    ClassOutcome,
    HolderOutcome,
    Payment,
    SplitExecuted,
    SplitResult,
    payments_csv,
)
from corpact.split.terms import SplitAuthority, SplitTerms, authority_breaches

__all__ = [
    "EVENT_KIND",
    "ClassOutcome",
    "Direction",
    "HolderOutcome",
    "Payment",
    "RatioRange",
    "Register",
    "RegisterEntry",
    "SplitAuthority",
    "SplitExecuted",
    "SplitRatio",
    "SplitResult",
    "SplitTerms",
    "apply_split",
    "authority_breaches",
    "load_register",
    "load_split",
    "meeting_authority",
    "payments_csv",
    "register_csv",
]
