"""One root exception with a family per layer.

Messages say what went wrong, why, and how to fix it. Catch :class:`SocialCreditError` to catch
everything the package raises on purpose.
"""

from __future__ import annotations


class SocialCreditError(Exception):
    """Root of every error socialcredit raises on purpose."""


class IdentifierError(SocialCreditError, ValueError):
    """An identifier (resident number, credit code, plate, licence) is invalid.

    Attributes:
        reason: one of ``length``, ``character``, ``date``, ``checksum``, ``format``, ``area``.
    """

    def __init__(self, message: str, *, reason: str, value: object = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.value = value


class JurisdictionError(SocialCreditError, LookupError):
    """A jurisdiction name or code is not in the synthetic jurisdictions table."""


class VocabularyError(SocialCreditError, LookupError):
    """An unknown record category, action or data source."""


class RegistryError(SocialCreditError):
    """The registry of subjects and relations refused an operation."""


class LedgerError(SocialCreditError):
    """The ledger could not be opened, written or verified."""


class IngestError(SocialCreditError):
    """A whole input file could not be read (individual bad lines are rejects, not errors)."""


class RulebookError(SocialCreditError):
    """A rulebook failed to load or validate."""
