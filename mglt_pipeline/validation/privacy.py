"""Privacy at the door: direct identifiers never enter the warehouse (DATA_CONTRACT.md).

A column that names or reaches a person (name, e-mail, phone, birth date, address, postal code,
medical record number, social security number, in any of their spellings: ``Name``, ``EMAIL``,
``e_mail``, ``phone_number``, ``dob``, ``date_of_birth``, ``zip``, ``MRN``, ``ssn`` ...) is dropped
from every source before its rows are read, with a log line naming it. E-mail addresses and phone
numbers inside free text (the diary's ``adverse_event``) are replaced by ``[redacted]``, and the
number of redactions is logged and kept as metadata.
"""
from __future__ import annotations

import logging
import re

import pandas as pd

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
_WHOLE_NAMES = frozenset({"name", "names", "initials", "dob", "zip", "zipcode", "postcode", "ssn", "mrn",
                          "surname", "firstname", "lastname", "fullname", "birthdate", "birthday"})
_TOKENS = frozenset({"email", "mail", "phone", "telephone", "tel", "mobile", "fax", "dob", "ssn", "mrn",
                     "zip", "zipcode", "postcode", "postal", "address", "street", "birthdate",
                     "birthday", "passport", "surname", "firstname", "lastname", "fullname"})
_NAMED_PEOPLE = frozenset({"first", "last", "full", "given", "family", "middle", "maiden", "participant", "patient",
                           "contact", "kin", "guardian", "parent", "mother", "father", "spouse", "partner",
                           "emergency", "physician", "doctor", "person", "subject", "user"})
"""A ``name`` column is a person's name when one of these words goes with it (``next_of_kin_contact_name``)."""
_PHRASES = (("social", "security"), ("medical", "record"), ("health", "record"), ("e", "mail"),
            ("date", "of", "birth"), ("birth", "date"), ("birth", "day"), ("place", "of", "birth"),
            ("birth", "place"), ("national", "id"), ("insurance", "number"))
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w.+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d(?:[\s.-]?\d){5,14}(?![\w-])")
_DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")


def _tokens(column: str) -> list[str]:
    """A column name as lower-case words: ``phoneNumber``, ``Phone Number``, ``PHONE-NUMBER`` all
    become ``phone``, ``number``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column.strip())
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def is_direct_identifier(column: str) -> bool:
    """True for a column that names a person or reaches them: such columns never enter the
    warehouse (DATA_CONTRACT.md, participants.csv)."""
    tokens = _tokens(column)
    if "".join(tokens) in _WHOLE_NAMES or "_".join(tokens) in _WHOLE_NAMES:
        return True
    if any(t in _TOKENS for t in tokens):
        return True
    if "name" in tokens and any(t in _NAMED_PEOPLE for t in tokens):
        return True
    return any(tuple(tokens[i:i + len(p)]) == p for p in _PHRASES for i in range(len(tokens)))


def identifier_columns(columns: list[str], file: str = "") -> list[str]:
    """The direct-identifier columns among ``columns`` (logged: they are dropped at the door)."""
    dropped = [c for c in columns if not c.startswith("_") and is_direct_identifier(str(c))]
    if dropped:
        log.warning("dropped direct-identifier columns %s from %s", ", ".join(dropped), file or "input")
    return dropped


def drop_identifiers(frame: pd.DataFrame, file: str = "") -> tuple[pd.DataFrame, list[str]]:
    """``frame`` without its direct-identifier columns, and the names of the columns dropped."""
    dropped = identifier_columns([str(c) for c in frame.columns], file)
    return frame.drop(columns=dropped), dropped


def _phone(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or not re.search(r"\d{3}", text) or _DATE_LIKE.match(text.strip()):
        return text
    return REDACTED


def redact_text(text: str) -> tuple[str, int]:
    """``text`` with every e-mail address and phone number replaced by ``[redacted]``, and how many."""
    text, emails = _EMAIL.subn(REDACTED, text)
    count = 0

    def phone(match: re.Match) -> str:
        nonlocal count
        replaced = _phone(match)
        count += replaced == REDACTED
        return replaced

    return _PHONE.sub(phone, text), emails + count


def redact_free_text(values: pd.Series) -> tuple[pd.Series, int]:
    """A free-text column with e-mail addresses and phone numbers redacted, and the count."""
    present = values.notna()
    if not present.any():
        return values, 0
    done = [redact_text(str(v)) for v in values[present]]
    out = values.copy()
    out[present] = [t for t, _ in done]
    return out, sum(n for _, n in done)
