"""The engine's errors: one family under :class:`socialcredit.errors.SocialCreditError`."""

from __future__ import annotations

from socialcredit.errors import SocialCreditError


class EngineError(SocialCreditError):
    """The engine cannot evaluate: an unsupported rule, a circular rulebook, a bad input."""


class UnknownSubject(EngineError, LookupError):
    """A subject id that neither the registry nor the records know."""


class UnknownAction(EngineError, LookupError):
    """An action that is not in the vocabulary."""


class NotSupportedYet(EngineError):
    """A rulebook feature engine part 1 does not compute: ``factors`` and ``tiers`` score
    models, network terms (issue 6)."""
