"""The simulator: a synthetic population living under rulebooks, day by day.

See docs/simulate.md. The entry points are :func:`load_scenario`, :class:`SocialCreditModel`
and :func:`run_scenario` (a model run plus its outputs).
"""

from socialcredit.simulate.model import SocialCreditModel
from socialcredit.simulate.scenario import Run, Scenario, ScenarioError, builtin_scenarios, load_scenario

__all__ = ["Run", "Scenario", "ScenarioError", "SocialCreditModel", "builtin_scenarios", "load_scenario"]
