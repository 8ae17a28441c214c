"""socialcredit: an open, auditable model of the social credit system as public reporting describes it.

Every person and company it knows is synthetic: identifiers are valid in format and checksum but
use area and division codes beginning with 0, which no scheme assigns.
"""

from socialcredit.errors import SocialCreditError

__version__ = "0.1.0"
__all__ = ["SocialCreditError", "__version__"]
