"""The demo insurer's organisation: its divisions, departments and teams, the unit each demo
person belongs to, and the unit of the services, applications, value streams, customers,
suppliers and cost pools its people own (where none is set yet)."""

from core import rules
from core.choices import Channel
from core.context import change_context
from core.demo import SOURCE
from core.demo import RecordLoader
from core.demo import demo_people
from people import services
from people.choices import UnitKind
from people.models import OrganisationUnit
from people.models import Profile

DIVISION, DEPARTMENT, TEAM = UnitKind.DIVISION, UnitKind.DEPARTMENT, UnitKind.TEAM

# key: (name, kind, parent key, manager's username)
UNITS = {
    "group-it": ("Group IT", DIVISION, None, "demo"),
    "digital-customer-services": ("Digital and Customer Services", DEPARTMENT, "group-it", "alice"),
    "group-it-operations": ("Group IT Operations", DEPARTMENT, "group-it", "carla"),
    "core-insurance-platforms": (
        "Core Insurance Platforms",
        TEAM,
        "digital-customer-services",
        "bob",
    ),
    "customer-channels": ("Customer Channels", TEAM, "digital-customer-services", "alice"),
    "infrastructure-cloud": ("Infrastructure and Cloud", TEAM, "group-it-operations", "carla"),
    "service-desk": ("Service Desk", TEAM, "group-it-operations", None),
    "customers-distribution": ("Customers and Distribution", DIVISION, None, "walter"),
    "retail-customers": ("Retail Customers", DEPARTMENT, "customers-distribution", "walter"),
    "brokers-partners": ("Brokers and Partners", DEPARTMENT, "customers-distribution", "vera"),
    "finance": ("Finance", DIVISION, None, "fiona"),
    "financial-control": ("Financial Control", TEAM, "finance", "fiona"),
    "strategy": ("Strategy and Transformation", DIVISION, None, "demo"),
    "portfolio-office": ("Portfolio Office", TEAM, "strategy", "demo"),
}

# username: unit key
MEMBERSHIP = {
    "demo": "portfolio-office",
    "alice": "customer-channels",
    "bob": "core-insurance-platforms",
    "carla": "infrastructure-cloud",
    "vera": "brokers-partners",
    "walter": "retail-customers",
    "fiona": "financial-control",
    "victor": "strategy",
}

# What belongs to the unit of the person who owns it: (model path, owner field).
OWNED_BY_UNIT = (
    ("portfolio.Service", "owner"),
    ("portfolio.Application", "owner"),
    ("portfolio.Customer", "relationship_manager"),
    ("portfolio.Supplier", "owner"),
    ("valuestreams.ValueStream", "owner"),
    ("finance.CostPool", "owner"),
)


def load(*, stdout) -> None:
    from django.apps import apps

    people = demo_people({*MEMBERSHIP, *(m for *_, m in UNITS.values() if m)})
    loader = RecordLoader()
    units: dict[str, OrganisationUnit] = {}
    for key, (name, kind, parent, manager) in UNITS.items():

        def create(external_id, name=name, kind=kind, parent=parent, manager=manager):
            return services.save_unit(
                unit=OrganisationUnit(
                    name=name,
                    kind=kind,
                    parent=units[parent] if parent else None,
                    manager=people[manager] if manager else None,
                    source=SOURCE,
                    external_id=external_id,
                )
            )

        units[key] = loader.ensure(OrganisationUnit, f"unit:{key}", create)
    placed = 0
    for username, key in MEMBERSHIP.items():
        profile, _ = Profile.objects.get_or_create(user=people[username])
        if profile.unit_id is None:
            profile.unit = units[key]
            profile.save()
            placed += 1
    unit_of = {people[username].pk: units[key] for username, key in MEMBERSHIP.items()}
    assigned = 0
    for path, owner in OWNED_BY_UNIT:
        model = apps.get_model(path)
        records = model.objects.filter(
            source=SOURCE, unit__isnull=True, **{f"{owner}_id__in": list(unit_of)}
        )
        for record in records.order_by("pk"):
            record.unit = unit_of[getattr(record, f"{owner}_id")]
            # In the demo's story each owner placed their own records in their unit.
            with change_context(
                user=getattr(record, owner), channel=Channel.COMMAND, source=SOURCE
            ):
                rules.save_checked(record)
            assigned += 1
    stdout.write(loader.summary("Demo organisation units"))
    stdout.write(
        f"Demo people placed in units: {placed}; records given their owner's unit: {assigned}."
    )
