"""The roles of Portico and the model permissions each one holds.

The groups are created by a data migration; their permissions are set from ROLE_PERMISSIONS
after every migrate, so a model added later gets its rights by one line here.
Object-level rights (owners and delegates) come on top, from core.permissions.
"""

from django.apps import apps as global_apps

PORTFOLIO_MANAGER = "Portfolio manager"
SERVICE_OWNER = "Service owner"
VALUE_STREAM_OWNER = "Value-stream owner"
FINANCE = "Finance"
VIEWER = "Viewer"
ROLES = (PORTFOLIO_MANAGER, SERVICE_OWNER, VALUE_STREAM_OWNER, FINANCE, VIEWER)

ALL: tuple[str, ...] = ("view", "add", "change", "delete")
VIEW: tuple[str, ...] = ("view",)
PORTFOLIO_APPS = (
    "portfolio",
    "finance",
    "valuestreams",
    "maturity",
    "cloud",
    "ledger",
    "performance",
    "customfields",
    "budgets",
)

# role -> list of (app_label, model_name or "*", actions)
ROLE_PERMISSIONS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    # Only a Portfolio manager writes people (accounts) and organisation units.
    PORTFOLIO_MANAGER: [(app, "*", ALL) for app in PORTFOLIO_APPS]
    + [("core", "objectchange", VIEW), ("auth", "user", ALL), ("people", "*", ALL)],
    SERVICE_OWNER: [(app, "*", VIEW) for app in PORTFOLIO_APPS]
    + [("portfolio", "service", ("add",))],
    VALUE_STREAM_OWNER: [(app, "*", VIEW) for app in PORTFOLIO_APPS]
    + [("valuestreams", "valuestream", ("add",))],
    FINANCE: [(app, "*", VIEW) for app in PORTFOLIO_APPS]
    + [("finance", "*", ALL), ("cloud", "*", ALL), ("ledger", "*", ALL), ("budgets", "*", ALL)],
    VIEWER: [(app, "*", VIEW) for app in PORTFOLIO_APPS],
}
for _role in (SERVICE_OWNER, VALUE_STREAM_OWNER, FINANCE, VIEWER):
    ROLE_PERMISSIONS[_role].append(("people", "organisationunit", VIEW))
# Whoever writes may import (the sync engine then asks the rights of every row); a run is
# previewed and committed by the one who uploaded it (ImportRun.ownership_lookups).
for _role in (PORTFOLIO_MANAGER, SERVICE_OWNER, VALUE_STREAM_OWNER, FINANCE):
    ROLE_PERMISSIONS[_role].append(("imports", "importrun", ("view", "add")))

# The roles whose people may own each kind of record ("app_label.model_name"): its owner
# picker offers only them, and a hand-over goes only to one of them.
OWNER_ROLES: dict[str, tuple[str, ...]] = {
    "portfolio.service": (PORTFOLIO_MANAGER, SERVICE_OWNER),
    "portfolio.application": (PORTFOLIO_MANAGER, SERVICE_OWNER),
    "portfolio.customer": (PORTFOLIO_MANAGER, SERVICE_OWNER),
    "portfolio.supplier": (PORTFOLIO_MANAGER, SERVICE_OWNER, FINANCE),
    "portfolio.contract": (PORTFOLIO_MANAGER, SERVICE_OWNER, FINANCE),
    "valuestreams.valuestream": (PORTFOLIO_MANAGER, VALUE_STREAM_OWNER),
    "finance.costpool": (PORTFOLIO_MANAGER, FINANCE),
}


def roles_of(user) -> list[str]:
    """The roles ``user`` holds, in the order of ROLES (one query); a superuser without a
    role is shown a Portfolio manager's view."""
    held = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    if not held and user.is_superuser:
        held = {PORTFOLIO_MANAGER}
    return [role for role in ROLES if role in held]


def owner_roles(model) -> tuple[str, ...]:
    """The roles that may own records of ``model`` (every role where none is declared)."""
    return OWNER_ROLES.get(f"{model._meta.app_label}.{model._meta.model_name}", ROLES)


def sync_role_permissions(*, using: str = "default") -> None:
    """Give each role exactly the permissions ROLE_PERMISSIONS names (idempotent)."""
    Group = global_apps.get_model("auth", "Group")
    Permission = global_apps.get_model("auth", "Permission")
    for role, grants in ROLE_PERMISSIONS.items():
        group = Group.objects.using(using).filter(name=role).first()
        if group is None:  # the roles migration has not run yet
            continue
        wanted = set()
        for app_label, model_name, actions in grants:
            perms = Permission.objects.using(using).filter(content_type__app_label=app_label)
            if model_name != "*":
                perms = perms.filter(content_type__model=model_name)
            for perm in perms.select_related("content_type"):
                if perm.codename.split("_", 1)[0] in actions:
                    wanted.add(perm.pk)
        group.permissions.set(wanted)


def ensure_roles() -> None:
    """Create any missing role group and give every role its permissions (idempotent)."""
    Group = global_apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    sync_role_permissions()
