"""Human outputs of a `MeetingResult`: summary table, CSV, inspector's report, Form 8-K Item
5.07 text and a press-release paragraph. Every figure printed is a field of the result."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction

from rich.console import Console
from rich.table import Table

from corpact.meeting.model import (
    ABSTAIN,
    AGAINST,
    BROKER_NON_VOTE,
    FOR,
    FREQUENCY_CHOICES,
    NOT_VOTED,
    Ballot,
    Proposal,
)
from corpact.meeting.result import LEVELS, MeetingResult, NomineeResult, ProposalResult, Tally
from corpact.meeting.standards import TestResult, percent_text

PERCENT_DISPLAY_PLACES = 2


def number(value: Decimal | Fraction | int | None) -> str:
    """Thousands separators; decimals only when the value is not whole (never rounded)."""
    if value is None:
        return "-"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"{value.numerator:,}"
        return str(value)
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    whole, _, fraction = format(amount.normalize(), "f").partition(".")
    return f"{int(whole):,}.{fraction}" if whole != "-0" else f"-0.{fraction}"


def percent(value: Fraction | None, places: int = PERCENT_DISPLAY_PLACES) -> str:
    shown = percent_text(value, places)
    return "-" if shown is None else f"{shown}%"


def _item_rows(result: ProposalResult) -> list[tuple[str, Tally, TestResult | None, str]]:
    if result.nominees:
        return [(n.nominee.name, n.tally, n.test, _nominee_outcome(n)) for n in result.nominees]
    check_tally = result.tally
    if check_tally is None:
        return []
    return [("", check_tally, result.test, result.outcome)]


def _nominee_outcome(row: NomineeResult) -> str:
    if row.elected:
        return "elected"
    if row.tied:
        return "tied for the last seat (not broken)"
    suffix = "; holds over" if row.holdover else ""
    suffix += "; must tender resignation" if row.resignation_required else ""
    return "not elected" + suffix


def table_text(result: MeetingResult) -> str:
    m = result.meeting
    console = Console(width=200, soft_wrap=False, highlight=False, file=io.StringIO())
    if m.synthetic_notice:
        console.print(f"NOTE: {m.synthetic_notice}")
    console.print(
        f"{m.issuer} {m.kind} meeting {m.meeting_date} (record date {m.record_date}); "
        f"quorum {'met' if result.quorum.passed else 'NOT met'}: "
        f"{number(result.quorum.present_votes)} of {number(result.quorum.outstanding_votes)} "
        f"votes present ({percent(result.quorum.percent)})"
    )
    table = Table(show_lines=False)
    for header in (
        "#",
        "Item",
        "For",
        "Against/Withheld",
        "Abstain",
        "Broker non-votes",
        "Not voted",
        "% for",
        "Result",
    ):
        table.add_column(header, justify="right" if header[0] in "FANB%" else "left")
    for proposal_result in result.proposals:
        p = proposal_result.proposal
        if p.ballot is Ballot.FREQUENCY and proposal_result.tally is not None:
            t = proposal_result.tally
            counts = ", ".join(
                f"{c.replace('_', ' ')}: {number(t.get(c))}" for c in FREQUENCY_CHOICES
            )
            table.add_row(
                p.number,
                f"{p.proposal_id} ({counts})",
                "",
                "",
                number(t.get(ABSTAIN)),
                number(t.get(BROKER_NON_VOTE)),
                number(t.get(NOT_VOTED)),
                "",
                proposal_result.outcome,
            )
            continue
        for label, tally, test, outcome in _item_rows(proposal_result):
            table.add_row(
                p.number,
                f"{p.proposal_id}: {label}" if label else p.proposal_id,
                number(tally.get(FOR)),
                number(tally.get(AGAINST)),
                number(tally.get(ABSTAIN)),
                number(tally.get(BROKER_NON_VOTE)),
                number(tally.get(NOT_VOTED)),
                percent(test.percent) if test else "-",
                outcome,
            )
    console.print(table)
    for proposal_result in result.proposals:
        p = proposal_result.proposal
        console.print(f"{p.number}. {p.proposal_id}: {p.standard.describe()}")
    rejected = {level: sum(r.level == level for r in result.rejections) for level in LEVELS}
    console.print(
        f"Rejected: {_counted(rejected['instruction'], 'instruction')} and "
        f"{_counted(rejected['line'], 'line')}; revoked: "
        f"{_counted(len(result.revocations), 'instruction')}; over-votes cut back: "
        f"{len(result.adjustments):,}. See the inspector's report."
    )
    out = console.file
    return out.getvalue() if isinstance(out, io.StringIO) else ""


CSV_HEADER = (
    "proposal",
    "number",
    "item",
    "item_name",
    "for",
    "against_or_withheld",
    "abstain",
    "broker_non_votes",
    "not_voted",
    "present",
    "outstanding",
    "1_year",
    "2_years",
    "3_years",
    "numerator",
    "denominator",
    "threshold",
    "strict",
    "percent_for",
    "passed",
    "outcome",
)


def csv_text(result: MeetingResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for proposal_result in result.proposals:
        p = proposal_result.proposal
        items: list[tuple[str, str, Tally, TestResult | None, bool, str]] = [
            (n.nominee.nominee_id, n.nominee.name, n.tally, n.test, n.elected, _nominee_outcome(n))
            for n in proposal_result.nominees
        ]
        if proposal_result.tally is not None:
            items.append(
                (
                    "",
                    "",
                    proposal_result.tally,
                    proposal_result.test,
                    proposal_result.passed,
                    proposal_result.outcome,
                )
            )
        for item_id, name, tally, test, passed, outcome in items:
            writer.writerow(
                [
                    p.proposal_id,
                    p.number,
                    item_id,
                    name,
                    *(
                        _plain(tally.get(b))
                        for b in (FOR, AGAINST, ABSTAIN, BROKER_NON_VOTE, NOT_VOTED)
                    ),
                    _plain(tally.present),
                    _plain(tally.outstanding),
                    *(
                        _plain(tally.get(c)) if p.ballot is Ballot.FREQUENCY else ""
                        for c in FREQUENCY_CHOICES
                    ),
                    _plain(test.numerator) if test else "",
                    _plain(test.denominator) if test else "",
                    str(test.threshold) if test else "",
                    str(test.strict).lower() if test else "",
                    str(percent_text(test.percent)) if test and test.percent is not None else "",
                    str(passed).lower(),
                    outcome,
                ]
            )
    return buffer.getvalue()


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _columns(p: Proposal) -> list[tuple[str, str]]:
    if p.ballot is Ballot.FREQUENCY:
        return [
            ("1 Year", "1_year"),
            ("2 Years", "2_years"),
            ("3 Years", "3_years"),
            ("Abstain", ABSTAIN),
        ]
    columns = [
        ("For", FOR),
        ("Withheld" if p.ballot is Ballot.FOR_WITHHOLD else "Against", AGAINST),
    ]
    if p.ballot is Ballot.FOR_AGAINST_ABSTAIN:
        columns.append(("Abstain", ABSTAIN))
    return [*columns, ("Broker Non-Votes", BROKER_NON_VOTE)]


def _grid(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  " + "  ".join([first, *rest]).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _long_date(value: object) -> str:
    text = getattr(value, "strftime", None)
    return value.strftime("%B %-d, %Y") if text else str(value)  # type: ignore[attr-defined]


def item_507_text(result: MeetingResult) -> str:
    """Form 8-K Item 5.07 text; every number comes from the result."""
    m = result.meeting
    lines = ["Item 5.07 Submission of Matters to a Vote of Security Holders.", ""]
    if m.synthetic_notice:
        lines += [f"[{m.synthetic_notice}]", ""]
    classes = "; ".join(
        f"{number(c.outstanding_shares)} shares of {c.name}"
        + (f" ({number(c.votes_per_share)} votes per share)" if c.votes_per_share != 1 else "")
        for c in result.classes
    )
    lines.append(
        f'On {_long_date(m.meeting_date)}, {m.issuer} (the "Company") held its {m.kind} '
        f"meeting of stockholders. At the close of business on {_long_date(m.record_date)}, "
        f"the record date, {classes} were outstanding and entitled to vote. Holders of "
        f"{number(result.quorum.present_votes)} votes "
        f"({percent(result.quorum.percent)}) were present in person or by proxy, "
        f"{'constituting' if result.quorum.passed else 'not constituting'} a quorum. "
        "The final results of the voting on each matter are set out below."
    )
    for proposal_result in result.proposals:
        lines += ["", *_item_507_proposal(proposal_result)]
    return "\n".join(lines) + "\n"


def _item_507_proposal(result: ProposalResult) -> list[str]:
    p = result.proposal
    out = [f"Proposal {p.number}. {p.title}"]
    columns = _columns(p)
    headers = [c[0] for c in columns]
    if result.nominees:
        rows = [
            [n.nominee.name, *(number(n.tally.get(b)) for _, b in columns)] for n in result.nominees
        ]
        out += _grid(["Nominee", *headers], rows)
        for n in result.nominees:
            term = f" for a term ending at the {n.nominee.term_ends}" if n.nominee.term_ends else ""
            klass = (
                f" as a Class {n.nominee.director_class} director"
                if n.nominee.director_class
                else ""
            )
            out.append(
                f"  {n.nominee.name} was {_nominee_outcome(n)}{klass}{term}."
                if n.elected
                else f"  {n.nominee.name}: {_nominee_outcome(n)}."
            )
        return out
    tally = result.tally
    if tally is None:
        return out
    out += _grid(["", *headers], [["", *(number(tally.get(b)) for _, b in columns)]])
    if tally.get(NOT_VOTED):
        out.append(
            f"  Shares present but not voted on this matter: {number(tally.get(NOT_VOTED))}."
        )
    if p.ballot is Ballot.FREQUENCY:
        out.append(f"  Result: {result.outcome}.")
        return out
    verdict = "approved" if result.passed else "not approved"
    test = result.test
    basis = ""
    if test is not None:
        basis = (
            f" ({number(test.numerator)} votes for, {percent(test.percent)} of "
            f"{number(test.denominator)} under the standard: {p.standard.describe()})"
        )
    advisory = " The proposal is advisory." if not p.binding else ""
    out.append(f"  The proposal was {verdict}{basis}.{advisory}")
    return out


def press_text(result: MeetingResult) -> str:
    """A press-release paragraph in the form of the 24 May 2007 Level 3 announcement."""
    m = result.meeting
    place = f" in {m.location}" if m.location else ""
    lines: list[str] = []
    if m.synthetic_notice:
        lines += [f"[{m.synthetic_notice}]", ""]
    lines.append(
        f"{m.issuer} held its {m.meeting_date.year} {m.kind.capitalize()} Meeting of "
        f"Stockholders on {_long_date(m.meeting_date)}{place}."
    )
    lines += ["", "At the meeting, the company's stockholders:"]
    for proposal_result in result.proposals:
        lines.append("o  " + _press_bullet(proposal_result))
    return "\n".join(lines) + "\n"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _press_directors(nominees: tuple[NomineeResult, ...]) -> str:
    elected = [n for n in nominees if n.elected]
    if not elected:
        return "Elected no director."
    groups: dict[str, list[str]] = {}
    for n in elected:
        groups.setdefault(n.nominee.director_class or "", []).append(n.nominee.name)
    parts = [
        f"{_names(names)} as {'Class ' + klass + ' directors' if klass else 'directors'}"
        for klass, names in groups.items()
    ]
    verb = "Re-elected" if all(n.nominee.incumbent for n in elected) else "Elected"
    text = f"{verb} " + ", and ".join(parts)
    terms = {n.nominee.term_ends for n in elected if n.nominee.term_ends}
    if len(terms) == 1:
        text += f"; all will serve a term until the {terms.pop()}"
    missed = [n.nominee.name for n in nominees if not n.elected]
    if missed:
        text += f". Not elected: {_names(missed)}"
    return text + "."


def _press_bullet(result: ProposalResult) -> str:
    p = result.proposal
    if result.nominees:
        return _press_directors(result.nominees)
    if p.ballot is Ballot.FREQUENCY:
        return f"Voted on {p.title[0].lower()}{p.title[1:]}: {result.outcome}."
    verb = "Approved" if result.passed else "Did not approve"
    subject = p.title[0].lower() + p.title[1:]
    if subject.startswith("stockholder proposal"):
        return f"{verb} a {subject}."
    if p.proponent == "stockholder":
        return f"{verb} a stockholder proposal to {subject}."
    return f"{verb} the proposal to {subject}."


def report_text(result: MeetingResult) -> str:
    """The inspector of election's report: findings, arithmetic and every exception."""
    m = result.meeting
    lines = [f"REPORT OF THE INSPECTOR OF ELECTION -- {m.issuer}", ""]
    if m.synthetic_notice:
        lines += [f"NOTE: {m.synthetic_notice}", ""]
    lines += [
        f"Meeting: {m.meeting_id} ({m.kind}) on {m.meeting_date}; polls closed "
        f"{m.polls_close_at.isoformat()}",
        f"Record date: {m.record_date}; register {result.register_source} "
        f"sha256 {result.register_hash}",
        f"Instruction lines received: {result.lines_received} ({result.votes_source})",
        f"Policies: over-votes {m.over_vote_policy.value}; unmarked items "
        f"{m.unmarked_policy.value}",
        "",
        "Classes:",
    ]
    for c in result.classes:
        lines.append(
            f"  {c.class_id}: {number(c.outstanding_shares)} shares outstanding x "
            f"{number(c.votes_per_share)} = {number(c.outstanding_votes)} votes; present "
            f"{number(c.present_votes)} votes; {c.holders} record positions"
        )
    q = result.quorum
    lines += [
        "",
        f"Quorum: {q.description}: {number(q.present_votes)} / {number(q.outstanding_votes)} = "
        f"{percent(q.percent, 4)} -> {'met' if q.passed else 'NOT met'}",
    ]
    for proposal_result in result.proposals:
        lines += ["", *_report_proposal(proposal_result)]
    lines += ["", *_report_exceptions(result), "", *_certification(result)]
    return "\n".join(lines) + "\n"


def _arithmetic(test: TestResult, indent: str = "    ") -> list[str]:
    compare = ">" if test.strict else ">="
    scope = f" [classes {', '.join(test.classes)}]" if test.classes else ""
    out = [
        f"{indent}{test.label}{scope}: {number(test.numerator)} / {number(test.denominator)} "
        f"= {percent(test.percent, 4)}; needs {compare} {test.threshold} x "
        f"{number(test.denominator)} = {number(test.required)}; "
        f"margin {number(test.margin)} -> {'pass' if test.passed else 'fail'}"
    ]
    for sub in (*test.also_require, *test.any_of):
        out += _arithmetic(sub, indent + "  ")
    return out


def _report_proposal(result: ProposalResult) -> list[str]:
    p = result.proposal
    out = [
        f"Proposal {p.number} ({p.proposal_id}, {p.kind.value}, "
        f"{'routine' if p.routine else 'non-routine'}): {p.title}",
        f"  Standard: {p.standard.describe()}"
        + (f" -- {p.standard.source}" if p.standard.source else ""),
    ]
    rows = _item_rows(result)
    for label, tally, test, outcome in rows:
        name = f"{label}: " if label else ""
        votes = ", ".join(f"{b} {number(v)}" for b, v in tally.votes)
        out.append(f"  {name}{votes}; present {number(tally.present)} -> {outcome}")
        if test is not None:
            out += _arithmetic(test)
    for test in result.class_tests:
        out += _arithmetic(test)
    for test in result.comparisons:
        out.append("  For comparison only (not the governing standard):")
        out += _arithmetic(test)
    if p.split_authority is not None and result.passed:
        auth = p.split_authority
        choices = ", ".join(auth.ratios) if auth.ratios else f"{auth.ratio_range}"
        out.append(
            f"  Authority granted to the {auth.delegate}: {choices}; expires "
            f"{auth.expires_on or 'not stated'}"
        )
    out.append(f"  Outcome: {result.outcome}")
    return out


def _report_exceptions(result: MeetingResult) -> list[str]:
    out = [f"Rejected ({len(result.rejections)}):"]
    for r in result.rejections:
        where = f"{result.votes_source} line {r.line_no}"
        item = f" {r.proposal_id}{'/' + r.item_id if r.item_id else ''}" if r.proposal_id else ""
        choice = f" {r.choice}" if r.choice else ""
        qty = f" {number(r.shares)}" if r.shares is not None else ""
        detail = f" ({r.detail})" if r.detail else ""
        out.append(
            f"  {r.instruction_id} [{where}] voter {r.voter}{item}{choice}{qty}: "
            f"{r.reason} -- {r.explanation}{detail}"
        )
    out.append(f"Revoked or superseded ({len(result.revocations)}):")
    for v in result.revocations:
        by = f" by {v.superseded_by}" if v.superseded_by else ""
        out.append(f"  {v.instruction_id} ({v.channel}) voter {v.voter}: {v.reason}{by}")
    out.append(f"Over-vote adjustments ({len(result.adjustments)}):")
    for a in result.adjustments:
        reported = ", ".join(f"{b} {number(q)}" for b, q in a.reported)
        counted = ", ".join(f"{b} {number(q)}" for b, q in a.counted)
        out.append(
            f"  {a.voter} {a.proposal_id}{'/' + a.item_id if a.item_id else ''}: reported "
            f"{number(a.reported_total)} ({reported}) vs entitled {number(a.entitled)}; "
            f"{a.policy} -> {counted}; evidence {result.votes_source} lines "
            f"{', '.join(map(str, a.lines))}"
        )
    if result.warnings:
        out.append("Warnings:")
        out += [f"  {w}" for w in result.warnings]
    return out


def _certification(result: MeetingResult) -> list[str]:
    m = result.meeting
    who = m.inspector or "the inspector of election"
    return [
        f"Certified by {who}: the above is a true report of the votes cast at the meeting, "
        f"computed from register sha256 {result.register_hash[:16]}... and the instructions "
        "received before the polls closed.",
    ]


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
