"""`helpdesk simulate`: realistic help desk traffic through the public REST APIs.

`plan` (pure, seeded) decides what happens and when; `seeding` and `driver` carry it out
over HTTP. See the README's "Simulator" section.
"""

from .plan import Action, Kind, Options, Plan, build_plan

__all__ = ["Action", "Kind", "Options", "Plan", "build_plan"]
