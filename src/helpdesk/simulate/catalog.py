"""The simulated organisation: teams, agents, categories, requesters (pure data, no I/O).

Three tiers: two service desks at tier 1 (English; German and French), network,
applications and workplace teams at tier 2, infrastructure at tier 3. A `namespace`
prefixes every id and category so that several simulations (or tests) share one system
without touching each other's tickets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Team:
    """A support team of one tier."""

    id: str
    name: str
    tier: int
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    strategy: str


@dataclass(frozen=True)
class Agent:
    """An agent with a shift in simulated hours of the day (start inclusive, end exclusive)."""

    id: str
    name: str
    team: str
    tier: int
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    capacity: int
    hourly_cost: float
    shift: tuple[int, int]
    weekend: bool = False


@dataclass(frozen=True)
class Category:
    """A ticket category: its tier-2 team, type, subjects and how hard it tends to be."""

    name: str
    weight: float
    type: str
    tier2: str
    service: str
    difficulty: float
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class Requester:
    """A person who raises tickets."""

    id: str
    name: str
    email: str
    org: str
    language: str


@dataclass(frozen=True)
class Org:
    """Everything the simulation seeds and draws from."""

    namespace: str
    teams: tuple[Team, ...]
    agents: tuple[Agent, ...]
    categories: tuple[Category, ...]
    requesters: tuple[Requester, ...]

    def team(self, team_id: str) -> Team:
        """The team with this id."""
        return next(t for t in self.teams if t.id == team_id)

    def agents_of(self, team_id: str) -> tuple[Agent, ...]:
        """Agents of one team, in catalog order."""
        return tuple(a for a in self.agents if a.team == team_id)

    def teams_of_tier(self, tier: int) -> tuple[Team, ...]:
        """Teams of one tier, in catalog order."""
        return tuple(t for t in self.teams if t.tier == tier)

    def category_id(self, name: str) -> str:
        """A category as tickets carry it (namespaced)."""
        return self.ns(name)

    def ns(self, name: str) -> str:
        """`name` with the namespace prefix, if any."""
        return f"{self.namespace}-{name}" if self.namespace else name


_TEAMS = (
    ("service-desk", "Service Desk", 1, (), ("en",), "least_loaded"),
    ("service-desk-dach", "Service Desk DACH/FR", 1, (), ("de", "fr"), "least_loaded"),
    ("network", "Network Operations", 2, ("network",), ("en", "de"), "skills_match"),
    ("applications", "Business Applications", 2, ("apps", "access"), ("en", "de"), "skills_match"),
    ("workplace", "Workplace Support", 2, ("hardware", "workplace"), ("en", "de", "fr"),
     "round_robin"),
    ("infrastructure", "Infrastructure", 3, ("infra",), ("en",), "least_loaded"),
)

# id, name, team, skills, languages, capacity, hourly cost, shift, weekend on-call
_AGENTS = (
    ("ana", "Ana Silva", "service-desk", ("access", "apps", "hardware"), ("en", "pt"), 8, 32.0,
     (7, 15), False),
    ("ben", "Ben Carter", "service-desk", ("network", "workplace"), ("en",), 8, 30.0, (9, 17),
     True),
    ("chloe", "Chloe Martin", "service-desk", ("access", "workplace"), ("en", "fr"), 8, 31.0,
     (11, 19), False),
    ("dieter", "Dieter Braun", "service-desk-dach", ("access", "hardware"), ("de", "en"), 8, 36.0,
     (7, 15), False),
    ("elise", "Elise Moreau", "service-desk-dach", ("apps", "network"), ("fr", "de", "en"), 8,
     35.0, (10, 18), False),
    ("farid", "Farid Haddad", "network", ("network", "vpn", "wifi"), ("en", "de"), 6, 48.0,
     (8, 16), False),
    ("grace", "Grace Okafor", "applications", ("apps", "access", "erp"), ("en",), 6, 50.0,
     (9, 17), False),
    ("hugo", "Hugo Lang", "workplace", ("hardware", "workplace", "printing"), ("de", "en", "fr"),
     6, 42.0, (8, 16), False),
    ("ines", "Ines Weber", "applications", ("apps", "email"), ("de", "en"), 6, 49.0, (10, 18),
     False),
    ("jonas", "Jonas Berg", "infrastructure", ("infra", "storage", "network"), ("en", "de"), 4,
     65.0, (8, 18), True),
)

_CATEGORIES = (
    Category("access/password-reset", 18, "service_request", "applications", "identity", 0.2,
             ("Password reset needed", "Account locked after failed logins",
              "Cannot log in after password change", "MFA token lost")),
    Category("access/permissions", 8, "service_request", "applications", "identity", 0.4,
             ("Need access to the finance share", "Request admin rights for installer",
              "Add me to the project mailing list")),
    Category("network/vpn", 10, "incident", "network", "vpn", 0.6,
             ("VPN disconnects every few minutes", "Cannot connect to VPN from home",
              "VPN very slow since this morning")),
    Category("network/wifi", 7, "incident", "network", "wifi", 0.5,
             ("Wi-Fi drops in meeting room 3", "No Wi-Fi on the second floor",
              "Guest Wi-Fi login page not loading")),
    Category("apps/email", 12, "incident", "applications", "email", 0.4,
             ("Outlook keeps asking for password", "Emails stuck in outbox",
              "Shared calendar not syncing", "Mailbox full warning")),
    Category("apps/erp", 6, "incident", "applications", "erp", 0.7,
             ("ERP report fails with timeout", "Cannot post invoices in ERP",
              "ERP screen freezes on save")),
    Category("hardware/laptop", 12, "incident", "workplace", "endpoints", 0.5,
             ("Laptop will not boot", "Laptop battery drains fast", "Broken laptop screen",
              "Keyboard keys not responding")),
    Category("hardware/printer", 8, "incident", "workplace", "printing", 0.3,
             ("Printer on floor 2 offline", "Print jobs stuck in queue", "Scanner sends blank pages")),
    Category("workplace/software-request", 9, "service_request", "workplace", "endpoints", 0.2,
             ("Install Visio please", "Need a licence for the PDF editor",
              "Request new monitor and docking station")),
    Category("workplace/how-to", 6, "question", "workplace", "endpoints", 0.1,
             ("How do I set up email on my phone?", "Where do I find the expense form?",
              "How to share a Teams recording?")),
    Category("infra/storage", 2, "incident", "network", "storage", 0.9,
             ("File server very slow", "Network drive not mapping", "Backup restore needed")),
    Category("infra/outage", 2, "incident", "network", "datacenter", 1.0,
             ("Several users cannot reach the intranet", "Core switch alarm in building B",
              "Database cluster failover")),
)

_FIRST = ("Alex", "Maria", "Chen", "Fatima", "Lukas", "Sofia", "Noah", "Emma", "Ravi", "Lea",
          "Tom", "Yuki", "Omar", "Nina", "Paul", "Zoe", "Jan", "Aisha", "Marco", "Ida")
_LAST = ("Keller", "Rossi", "Nguyen", "Schmidt", "Dubois", "Kowalski", "Jensen", "Garcia",
         "Novak", "Fischer")
_ORGS = ("Finance", "Sales", "Marketing", "Engineering", "HR", "Operations", "Legal", "Board")
_LANGS = ("en", "en", "en", "en", "de", "de", "fr")


def _requesters(namespace: str) -> tuple[Requester, ...]:
    people = []
    for i in range(60):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 7) % len(_LAST)]
        rid = f"{namespace}-u{i + 1:03d}" if namespace else f"u{i + 1:03d}"
        people.append(Requester(
            id=rid, name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}{i + 1}@example.com",
            org=_ORGS[(i * 3) % len(_ORGS)], language=_LANGS[(i * 5) % len(_LANGS)],
        ))
    return tuple(people)


def build_org(namespace: str = "") -> Org:
    """The organisation, ids and categories prefixed with `namespace` when given."""
    def ns(name: str) -> str:
        return f"{namespace}-{name}" if namespace else name

    teams = tuple(Team(ns(i), name, tier, tuple(ns(c) for c in cats), langs, strategy)
                  for i, name, tier, cats, langs, strategy in _TEAMS)
    agents = tuple(Agent(ns(i), name, ns(team), next(t.tier for t in teams if t.id == ns(team)),
                         skills, langs, cap, cost, shift, weekend)
                   for i, name, team, skills, langs, cap, cost, shift, weekend in _AGENTS)
    categories = tuple(Category(ns(c.name), c.weight, c.type, ns(c.tier2), c.service, c.difficulty,
                                c.subjects) for c in _CATEGORIES)
    return Org(namespace, teams, agents, categories, _requesters(namespace))
