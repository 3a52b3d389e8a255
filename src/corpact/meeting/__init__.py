"""Stockholder meetings: register snapshot, vote instructions, tabulation, certified results.

Public API::

    meeting = load_meeting("meeting.yaml")
    register = load_register("register.csv")
    votes = load_votes("votes.csv", time_zone=meeting.time_zone)
    result = tabulate(meeting, register, votes)      # pure
    result.to_json_dict()
"""

from corpact.meeting.meeting_file import load_meeting, meeting_from_dict, meeting_json_schema
from corpact.meeting.model import Meeting, Proposal, Standard
from corpact.meeting.register import Register, RegisterRow, load_register
from corpact.meeting.result import MeetingResult
from corpact.meeting.standards import reverse_split_standard
from corpact.meeting.tabulate import tabulate
from corpact.meeting.votes import VoteBook, VoteInstruction, VoteLine, load_votes

__all__ = [
    "Meeting",
    "MeetingResult",
    "Proposal",
    "Register",
    "RegisterRow",
    "Standard",
    "VoteBook",
    "VoteInstruction",
    "VoteLine",
    "load_meeting",
    "load_register",
    "load_votes",
    "meeting_from_dict",
    "meeting_json_schema",
    "reverse_split_standard",
    "tabulate",
]
