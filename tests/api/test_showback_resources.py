"""Cost to serve and value-stream cost, computed by the roll-up and read through the API: a
period worked out by hand to the cent (docs/tco.md, "Cost to serve and value-stream cost")."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import services
from finance.models import CustomerStatement
from finance.models import StatementLine
from finance.models import TcoResult
from finance.models import ValueStreamCost
from portfolio.choices import ServiceKind
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.portfolio import ServiceDependencyFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.portfolio import SubscriptionFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import StageServiceFactory
from tests.factories.valuestreams import ValueStreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def showback():
    """March 2025, EUR.

    Cost: Online 1,000.01 direct, Portal 200.00, Lonely 50.00, Hosting 300.00 that it passes
    on (supporting): 2/3 to Online, 1/3 to Portal. Kept: Online 1,200.01, Portal 300.00,
    Lonely 50.00, Hosting 0 — 1,550.01 in all.

    Subscriptions: Online has unlike units, so it is shared by monthly charge — Acme's 10 users
    at 12.50 (125.00), Bolt's 2 vehicles at 1,200.00 a year (100.00), Acme's 5 policies at
    5.00 (25.00): 1,200.01 × 125/250 = 600.005, × 100/250 = 480.004, × 25/250 = 120.001;
    floors 600.00, 480.00, 120.00 and the cent left to the largest remainder: 600.01.
    Portal's are all users, so by units: Acme's 3 at 10.00 and Bolt's 1 at 1,200.00 a year:
    225.00 and 75.00 (by charge it would be 30:100). Lonely has none: 50.00 not charged.

    Streams: Deliver (current) has stage Apply with Online (weight 1) and Hosting (1), and
    stage Settle with Online (3) and Portal (1); Report (current) has stage Publish with
    Portal at weight 0. Online: 1,200.01 × 1/4 = 300.0025 and × 3/4 = 900.0075 → 300.00 and
    900.01; Portal all to Settle (its other link weighs 0); Hosting keeps nothing (summing
    gross TCO would count its 300.00 a second time). Lonely is in no value stream. A retired
    stream's link to Portal carries nothing. The future state of Deliver has stage New with
    Online (1) and Lonely (1) and stage Faster with Online (1): 600.005 each, the tie's cent
    to the older link → New 600.01 + 50.00, Faster 600.00: 1,250.01, what-if.
    """
    march = PeriodFactory(year=2025, month=3)
    online = ServiceFactory(name="Online", kind=ServiceKind.CUSTOMER_FACING)
    portal = ServiceFactory(name="Portal", kind=ServiceKind.CUSTOMER_FACING)
    lonely = ServiceFactory(name="Lonely", kind=ServiceKind.CUSTOMER_FACING)
    hosting = ServiceFactory(name="Hosting", kind=ServiceKind.SUPPORTING)
    ServiceDependencyFactory(provider=hosting, consumer=online, weight=2)
    ServiceDependencyFactory(provider=hosting, consumer=portal, weight=1)
    for service, amount in ((online, "1000.01"), (portal, "200.00"), (lonely, "50.00")):
        CostItemFactory(period=march, service=service, amount=Decimal(amount))
    CostItemFactory(period=march, service=hosting, amount=Decimal("300.00"))

    acme = CustomerFactory(name="Acme")
    bolt = CustomerFactory(name="Bolt")
    users = SubscriptionFactory(customer=acme, service=online, units=10, unit_name="user")
    vehicles = SubscriptionFactory(
        customer=bolt,
        service=online,
        units=2,
        unit_name="vehicle",
        price_per_unit=None,
        annual_charge=Decimal("1200.00"),
    )
    policies = SubscriptionFactory(
        customer=acme, service=online, units=5, unit_name="policy", price_per_unit=Decimal(5)
    )
    portal_acme = SubscriptionFactory(
        customer=acme, service=portal, units=3, price_per_unit=Decimal(10)
    )
    portal_bolt = SubscriptionFactory(
        customer=bolt,
        service=portal,
        units=1,
        price_per_unit=None,
        annual_charge=Decimal("1200.00"),
    )
    # Ended before March: not in force, in no statement.
    SubscriptionFactory(customer=bolt, service=lonely, end_date=datetime.date(2025, 2, 28))

    deliver = ValueStreamFactory(name="Deliver")
    apply, settle = StageFactory(value_stream=deliver), StageFactory(value_stream=deliver)
    StageServiceFactory(stage=apply, service=online, weight=1)
    StageServiceFactory(stage=apply, service=hosting, weight=1)
    StageServiceFactory(stage=settle, service=online, weight=3)
    StageServiceFactory(stage=settle, service=portal, weight=1)
    report = ValueStreamFactory(name="Report")
    publish = StageFactory(value_stream=report)
    StageServiceFactory(stage=publish, service=portal, weight=0)
    retired = ValueStreamFactory(
        name="Old", retired_at=timezone.now() - datetime.timedelta(days=9999)
    )
    StageServiceFactory(stage=StageFactory(value_stream=retired), service=portal)
    future = ValueStreamFactory(
        name="Deliver faster", state="future", current_state=deliver, owner=deliver.owner
    )
    new, faster = StageFactory(value_stream=future), StageFactory(value_stream=future)
    StageServiceFactory(stage=new, service=online, weight=1)
    StageServiceFactory(stage=faster, service=online, weight=1)
    StageServiceFactory(stage=new, service=lonely, weight=1)
    return {
        "march": march,
        "services": {"online": online, "portal": portal, "lonely": lonely, "hosting": hosting},
        "customers": {"acme": acme, "bolt": bolt},
        "subscriptions": {
            "users": users,
            "vehicles": vehicles,
            "policies": policies,
            "portal_acme": portal_acme,
            "portal_bolt": portal_bolt,
        },
        "streams": {"deliver": deliver, "report": report, "retired": retired, "future": future},
        "stages": {"apply": apply, "settle": settle, "publish": publish, "new": new,
                   "faster": faster},
    }  # fmt: skip


def test_statements_and_stream_costs_match_the_hand_computed_period(
    showback, finance_user, api_for
):
    services.recompute_tco(period=showback["march"])
    api = api_for(finance_user, write=False)
    subs, customers = showback["subscriptions"], showback["customers"]

    answer = api.get("/api/v1/customer-statements/", period="2025-03")
    assert answer.status_code == 200, answer.content
    statements = {row["customer"]["id"]: row for row in answer.json()["results"]}
    assert set(statements) == {customers["acme"].pk, customers["bolt"].pk}
    acme, bolt = statements[customers["acme"].pk], statements[customers["bolt"].pk]
    assert (acme["revenue"], acme["cost_to_serve"], acme["margin"], acme["recovery_ratio"]) == (
        "180.00", "945.01", "-765.01", "0.1905",
    )  # fmt: skip
    assert (bolt["revenue"], bolt["cost_to_serve"], bolt["margin"], bolt["recovery_ratio"]) == (
        "200.00", "555.00", "-355.00", "0.3604",
    )  # fmt: skip
    lines = {
        line["subscription"]["id"]: (line["units"], line["unit_name"], line["revenue"],
                                     line["cost_to_serve"])
        for row in (acme, bolt)
        for line in row["lines"]
    }  # fmt: skip
    assert lines == {
        subs["users"].pk: ("10.0000", "user", "125.00", "600.01"),
        subs["policies"].pk: ("5.0000", "policy", "25.00", "120.00"),
        subs["vehicles"].pk: ("2.0000", "vehicle", "100.00", "480.00"),
        subs["portal_acme"].pk: ("3.0000", "user", "30.00", "225.00"),
        subs["portal_bolt"].pk: ("1.0000", "user", "100.00", "75.00"),
    }
    line = next(line for line in acme["lines"] if line["subscription"]["id"] == subs["users"].pk)
    assert line["service"]["id"] == showback["services"]["online"].pk

    answer = api.get("/api/v1/value-stream-costs/", period="2025-03")
    assert answer.status_code == 200, answer.content
    streams = {row["value_stream"]["id"]: row for row in answer.json()["results"]}
    by_stream = showback["streams"]
    assert set(streams) == {by_stream[n].pk for n in ("deliver", "report", "future")}
    stages = showback["stages"]
    deliver = streams[by_stream["deliver"].pk]
    assert (deliver["cost"], deliver["what_if"]) == ("1500.01", False)
    assert {s["stage"]["id"]: s["cost"] for s in deliver["stages"]} == {
        stages["apply"].pk: "300.00",
        stages["settle"].pk: "1200.01",
    }
    report = streams[by_stream["report"].pk]
    assert (report["cost"], report["what_if"], report["stages"]) == (
        "0.00", False, [{"stage": {"id": stages["publish"].pk, "source": "", "external_id": ""},
                         "cost": "0.00"}],
    )  # fmt: skip
    future = streams[by_stream["future"].pk]
    assert (future["cost"], future["what_if"]) == ("1250.01", True)
    assert {s["stage"]["id"]: s["cost"] for s in future["stages"]} == {
        stages["new"].pk: "650.01",
        stages["faster"].pk: "600.00",
    }
    what_if_only = api.get("/api/v1/value-stream-costs/", what_if="true").json()["results"]
    assert [row["value_stream"]["id"] for row in what_if_only] == [by_stream["future"].pk]

    period = api.get("/api/v1/periods/", label="2025-03").json()["results"][0]
    assert (period["not_charged"], period["in_no_value_stream"]) == ("50.00", "50.00")

    results = {
        row["service"]["id"]: row
        for row in api.get("/api/v1/tco-results/", period="2025-03").json()["results"]
    }
    online = results[showback["services"]["online"].pk]
    portal = results[showback["services"]["portal"].pk]
    lonely = results[showback["services"]["lonely"].pk]
    assert (online["kept"], online["unit_name"], online["unit_cost"]) == ("1200.01", "", None)
    assert online["not_charged"] == online["in_no_value_stream"] == "0.00"
    assert (portal["unit_name"], portal["consumed_units"], portal["unit_cost"]) == (
        "user", "4.0000", "75.0000",
    )  # fmt: skip
    assert lonely["not_charged"] == lonely["in_no_value_stream"] == "50.00"

    # The three totals add up, to the cent.
    kept = sum(TcoResult.objects.filter(period=showback["march"]).values_list("kept", flat=True))
    served = sum(CustomerStatement.objects.values_list("cost_to_serve", flat=True))
    in_streams = sum(ValueStreamCost.objects.filter(what_if=False).values_list("cost", flat=True))
    assert kept == Decimal("1550.01") == served + Decimal("50.00") == in_streams + Decimal("50.00")


def test_a_rerun_writes_the_same_rows_and_a_restatement_a_new_version(showback):
    march = showback["march"]
    services.recompute_tco(period=march)
    first = list(StatementLine.objects.values_list("subscription_id", "cost_to_serve"))
    services.recompute_tco(period=march)
    assert sorted(StatementLine.objects.values_list("subscription_id", "cost_to_serve")) == (
        sorted(first)
    )
    assert CustomerStatement.objects.count() == 2
    services.close_period(period=march)
    # A change after closing: the frozen statements stay, the restatement shows it.
    showback["subscriptions"]["policies"].units = 500
    showback["subscriptions"]["policies"].save()
    services.restate_period(period=march, reason="Policies were miscounted.")
    assert set(CustomerStatement.objects.values_list("version", flat=True)) == {1, 2}
    frozen = CustomerStatement.objects.get(version=1, customer=showback["customers"]["acme"])
    assert frozen.cost_to_serve == Decimal("945.01")
    assert ValueStreamCost.objects.filter(version=2).count() == 3
