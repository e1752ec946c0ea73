"""A period built through the REST API alone, as a client builds it, worked out by hand, and
read back to the cent through the API, the pages and the statements' XLSX; then restated
after a "change from month" (docs/tco.md, "Cost to serve and value-stream cost" and
"Effective-dated edges").

March 2025, EUR. In force on the 15th: Hosting → Claims (weight 3) and Hosting → Portal (1);
the pool *Data centre* → Hosting (1). Hosting → Lonely (2) and Data centre → Portal (1)
ended on 2024-12-31, last quarter: they carry nothing.

Cost: Claims 1,000.00 and a credit note of −150.00; Portal 200.00; Lonely 77.77; Archive
12.34; Hosting 400.00; the pool 600.01. Input 2,140.12.

Hosting's TCO 1,000.01 goes 3/4 to Claims (750.0075) and 1/4 to Portal (250.0025). Kept:
Claims 1,600.0075, Portal 450.0025, Lonely 77.77, Archive 12.34; floors 1,600.00, 450.00,
77.77, 12.34 and the cent left to the largest remainder (0.75 of a cent): Claims 1,600.01.

Cost to serve. Claims counts unlike units (users, vehicles, policies): by monthly charge
125.00 : 100.00 : 25.00 → 800.005, 640.004, 160.001 → 800.01 (the cent), 640.00, 160.00.
Portal counts users only: by units 3 : 1 → 337.50 and 112.50 (by charge it would be
30 : 100). Archive: Cato's 12.34. Lonely's only subscription ended in February: 77.77 not
charged. Statements: Acme 155.00 / 1,137.51 / −982.51 / 0.1363; Bolt 200.00 / 752.50 /
−552.50 / 0.2658; Cato 27.00 / 172.34 / −145.34 / 0.1567. 2,062.35 + 77.77 = 2,140.12.

Value streams. Claims over Apply (1) and Settle (2.5): 457.1457… and 1,142.8642… → 457.15
(the cent) and 1,142.86; Portal all to Settle (its Publish link weighs 0): Settle 1,592.86;
Hosting keeps nothing. Deliver 2,050.01; Report (Publish, Lonely at 1) 77.77; Archive 12.34
in no value stream. 2,050.01 + 77.77 + 12.34 = 2,140.12.
"""

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from finance import services
from finance.models import Period
from tests.factories.finance import PeriodFactory

pytestmark = pytest.mark.django_db

STATEMENTS = {  # customer: revenue, cost to serve, margin, recovery ratio
    "Acme": ("155.00", "1137.51", "-982.51", "0.1363"),
    "Bolt": ("200.00", "752.50", "-552.50", "0.2658"),
    "Cato": ("27.00", "172.34", "-145.34", "0.1567"),
}
LINES = {  # (customer, service, unit): units, revenue, cost to serve
    ("Acme", "Claims", "user"): ("10.0000", "125.00", "800.01"),
    ("Bolt", "Claims", "vehicle"): ("4.0000", "100.00", "640.00"),
    ("Cato", "Claims", "policy"): ("5.0000", "25.00", "160.00"),
    ("Acme", "Portal", "user"): ("3.0000", "30.00", "337.50"),
    ("Bolt", "Portal", "user"): ("1.0000", "100.00", "112.50"),
    ("Cato", "Archive", "GB"): ("2.0000", "2.00", "12.34"),
}
RESULTS = {  # service: tco, kept, passed on, not charged, in no value stream
    "Claims": ("1600.01", "1600.01", "0.00", "0.00", "0.00"),
    "Portal": ("450.00", "450.00", "0.00", "0.00", "0.00"),
    "Lonely": ("77.77", "77.77", "0.00", "77.77", "0.00"),
    "Archive": ("12.34", "12.34", "0.00", "0.00", "12.34"),
    "Hosting": ("1000.01", "0.00", "1000.01", "0.00", "0.00"),
}
STREAMS = {
    "Deliver claims": ("2050.01", ["457.15", "1592.86"]),
    "Report losses": ("77.77", ["77.77"]),
}


class Built:
    def __init__(self, api):
        self.api = api
        self.ids: dict[str, int] = {}

    def post(self, resource, key, body):
        answer = self.api.post(f"/api/v1/{resource}/", body)
        assert answer.status_code == 201, (resource, key, answer.content)
        self.ids[key] = answer.json()["id"]


@pytest.fixture
def built(portfolio_manager, api_for):
    PeriodFactory(year=2025, month=3)
    built = Built(api_for(portfolio_manager))
    post, ids = built.post, built.ids
    for name, kind in (
        ("Claims", "customer_facing"),
        ("Portal", "customer_facing"),
        ("Lonely", "customer_facing"),
        ("Archive", "customer_facing"),
        ("Hosting", "supporting"),
    ):
        post("services", name, {"name": name, "kind": kind, "lifecycle": "live", "owner": "pm"})
    post(
        "service-dependencies",
        "hosting-claims",
        {"provider": ids["Hosting"], "consumer": ids["Claims"], "weight": "3"},
    )
    post(
        "service-dependencies",
        "hosting-portal",
        {"provider": ids["Hosting"], "consumer": ids["Portal"], "weight": "1"},
    )
    post(
        "service-dependencies",
        "hosting-lonely",
        {
            "provider": ids["Hosting"],
            "consumer": ids["Lonely"],
            "weight": "2",
            "valid_from": "2024-01-01",
            "valid_to": "2024-12-31",
        },
    )
    post("cost-pools", "dc", {"name": "Data centre"})
    post("pool-allocations", "dc-hosting", {"pool": ids["dc"], "service": ids["Hosting"]})
    post(
        "pool-allocations",
        "dc-portal",
        {"pool": ids["dc"], "service": ids["Portal"], "valid_to": "2024-12-31"},
    )
    for target, amount, category in (
        ({"service": ids["Claims"]}, "1000.00", "development"),
        ({"service": ids["Claims"]}, "-150.00", "maintenance"),  # a credit note
        ({"service": ids["Portal"]}, "200.00", "support"),
        ({"service": ids["Lonely"]}, "77.77", "support"),
        ({"service": ids["Archive"]}, "12.34", "infrastructure"),
        ({"service": ids["Hosting"]}, "400.00", "infrastructure"),
        ({"pool": ids["dc"]}, "600.01", "infrastructure"),
    ):
        post(
            "cost-items",
            f"{amount}",
            {
                "description": "booked",
                "period": "2025-03",
                "amount": amount,
                "category": category,
                "currency": "EUR",
                **target,
            },
        )
    for name in ("Acme", "Bolt", "Cato"):
        post("customers", name, {"name": name, "kind": "external"})
    for customer, service, units, unit, price in (
        ("Acme", "Claims", "10", "user", {"price_per_unit": "12.50"}),
        ("Bolt", "Claims", "4", "vehicle", {"annual_charge": "1200.00"}),
        ("Cato", "Claims", "5", "policy", {"price_per_unit": "5.00"}),
        ("Acme", "Portal", "3", "user", {"price_per_unit": "10.00"}),
        ("Bolt", "Portal", "1", "user", {"annual_charge": "1200.00"}),
        ("Cato", "Archive", "2", "GB", {"price_per_unit": "1.00"}),
        ("Bolt", "Lonely", "1", "user", {"price_per_unit": "9.00", "end_date": "2025-02-28"}),
    ):
        post(
            "subscriptions",
            f"{customer}-{service}",
            {
                "customer": ids[customer],
                "service": ids[service],
                "units": units,
                "unit_name": unit,
                "currency": "EUR",
                "start_date": "2025-01-01",
                **price,
            },
        )
    post("value-streams", "deliver", {"name": "Deliver claims", "owner": "pm"})
    post("value-streams", "report", {"name": "Report losses", "owner": "pm"})
    post("stages", "apply", {"value_stream": ids["deliver"], "name": "Apply for cover"})
    post("stages", "settle", {"value_stream": ids["deliver"], "name": "Settle the claim"})
    post("stages", "publish", {"value_stream": ids["report"], "name": "Publish the report"})
    for stage, service, weight in (
        ("apply", "Claims", "1"),
        ("apply", "Hosting", "1"),
        ("settle", "Claims", "2.5"),
        ("settle", "Portal", "1"),
        ("publish", "Lonely", "1"),
        ("publish", "Portal", "0"),
    ):
        post(
            "stage-services",
            f"{stage}-{service}",
            {"stage": ids[stage], "service": ids[service], "weight": weight},
        )
    return built


def api_figures(api, version=None):
    query = {"period": "2025-03", **({"version": version} if version else {})}
    names = {}
    for resource in ("services", "customers", "value-streams", "stages"):
        for row in api.get(f"/api/v1/{resource}/", page_size=100).json()["results"]:
            names[(resource, row["id"])] = row["name"]
    results = {
        names[("services", row["service"]["id"])]: (
            row["tco"],
            row["kept"],
            row["passed_on"],
            row["not_charged"],
            row["in_no_value_stream"],
        )
        for row in api.get("/api/v1/tco-results/", **query).json()["results"]
    }
    statements, lines = {}, {}
    for row in api.get("/api/v1/customer-statements/", **query).json()["results"]:
        customer = names[("customers", row["customer"]["id"])]
        statements[customer] = (
            row["revenue"],
            row["cost_to_serve"],
            row["margin"],
            row["recovery_ratio"],
        )
        for line in row["lines"]:
            key = (customer, names[("services", line["service"]["id"])], line["unit_name"])
            lines[key] = (line["units"], line["revenue"], line["cost_to_serve"])
    streams = {
        names[("value-streams", row["value_stream"]["id"])]: (
            row["cost"],
            [stage["cost"] for stage in row["stages"]],
        )
        for row in api.get("/api/v1/value-stream-costs/", **query).json()["results"]
        if not row["what_if"]
    }
    return results, statements, lines, streams


def test_a_period_built_through_the_api_matches_the_hand_computation_everywhere(
    built, portfolio_manager, api_for
):
    services.recompute_tco(period=Period.objects.get(year=2025, month=3))
    api = api_for(portfolio_manager, write=False)

    results, statements, lines, streams = api_figures(api)
    assert results == RESULTS
    assert statements == STATEMENTS
    assert lines == LINES
    assert streams == STREAMS
    claims = api.get("/api/v1/tco-results/", period="2025-03", service=built.ids["Claims"])
    claims = claims.json()["results"][0]
    assert (claims["direct"], claims["received_services"], claims["revenue"]) == (
        "850.00",
        "750.01",
        "250.00",
    )
    assert (claims["unit_name"], claims["unit_cost"]) == ("", None)  # unlike units
    period = api.get("/api/v1/periods/", label="2025-03").json()["results"][0]
    assert (period["not_charged"], period["in_no_value_stream"]) == ("77.77", "12.34")
    # The three totals, to the cent.
    kept = sum(Decimal(row[1]) for row in results.values())
    served = sum(Decimal(row[1]) for row in statements.values())
    carried = sum(Decimal(row[0]) for row in streams.values())
    assert kept == Decimal("2140.12")
    assert served + Decimal(period["not_charged"]) == kept
    assert carried + Decimal(period["in_no_value_stream"]) == kept

    browser = Client()
    browser.force_login(portfolio_manager)
    overview = reverse("finance:overview")
    by_customer = browser.get(overview, {"period": "2025-03", "view": "customer"})
    assert by_customer.status_code == 200
    for figure in ("1,137.51", "752.50", "172.34", "2,062.35", "77.77", "2,140.12"):
        assert figure in by_customer.content.decode(), figure
    by_stream = browser.get(overview, {"period": "2025-03", "view": "stream"}).content.decode()
    for figure in ("457.15", "1,592.86", "2,050.01", "2,127.78", "12.34", "2,140.12"):
        assert figure in by_stream, figure
    by_service = browser.get(overview, {"period": "2025-03"}).content.decode()
    for figure in ("1,600.01", "1,000.01", "450.00", "112.50"):
        assert figure in by_service, figure
    stream_page = browser.get("/value-streams/deliver-claims/").content.decode()
    assert "457.15" in stream_page and "1,592.86" in stream_page and "2,050.01" in stream_page
    statement = api.get(
        "/api/v1/customer-statements/", period="2025-03", customer=built.ids["Acme"]
    ).json()["results"][0]
    page = browser.get(reverse("finance:statement_detail", args=[statement["id"]]))
    for figure in ("155.00", "1,137.51", "-982.51", "800.01", "337.50"):
        assert figure in page.content.decode(), figure

    download = browser.get(
        reverse("finance:statement_list"), {"period": "2025-03", "download": "xlsx"}
    )
    workbook = load_workbook(io.BytesIO(download.content))
    sheet = workbook["Statements"]
    rows = [row for row in sheet.iter_rows(values_only=True) if row[0] in STATEMENTS]
    assert {
        row[0]: (f"{row[4]:.2f}", f"{row[5]:.2f}", f"{row[6]:.2f}", f"{row[7]:.4f}") for row in rows
    } == STATEMENTS
    total = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Total")
    assert f"{total[5]:.2f}" == "2062.35"
    cells = [row for row in workbook["Lines"].iter_rows(values_only=True) if row[0] in STATEMENTS]
    assert {(row[0], row[3], row[6]): f"{row[8]:.2f}" for row in cells} == {
        key: value[2] for key, value in LINES.items()
    }


def test_a_restatement_after_a_change_from_a_later_month_keeps_the_months_edges(
    built, portfolio_manager, api_for
):
    march = Period.objects.get(year=2025, month=3)
    services.recompute_tco(period=march)
    api = api_for(portfolio_manager, write=False)
    before = api_figures(api, version=1)
    browser = Client()
    browser.force_login(portfolio_manager)
    closed = browser.post(reverse("finance:period_close", args=["2025-03"]))
    assert closed.status_code == 302
    changed = browser.post(
        reverse(
            "portfolio:dependency_change_from_month", args=["claims", built.ids["hosting-claims"]]
        ),
        {"month": "2025-04", "weight": "1"},
    )
    assert changed.status_code == 302, changed.content
    restated = browser.post(
        reverse("finance:period_restate", args=["2025-03"]), {"reason": "Checked again"}
    )
    assert restated.status_code == 302

    assert api_figures(api, version=2) == before
    # April takes the new weight: Hosting's 100.00 goes half and half.
    writer = api_for(portfolio_manager)
    answer = writer.post(
        "/api/v1/cost-items/",
        {
            "description": "April",
            "period": "2025-04",
            "amount": "100.00",
            "category": "infrastructure",
            "service": built.ids["Hosting"],
        },
    )
    assert answer.status_code == 201, answer.content
    services.recompute_tco(period=Period.objects.get(year=2025, month=4))
    april = api.get("/api/v1/tco-results/", period="2025-04").json()["results"]
    received = {row["service"]["id"]: row["received_services"] for row in april}
    assert received[built.ids["Claims"]] == received[built.ids["Portal"]] == "50.00"


@pytest.mark.parametrize("channel", ["single", "sync"])
def test_a_monthly_charge_beyond_the_largest_amount_is_refused_on_the_price(
    built, portfolio_manager, api_for, channel
):
    """Units and price each fit their fields, but their product is a monthly charge no
    amount holds: refused on price_per_unit, nothing written."""
    api = api_for(portfolio_manager)
    item = {
        "customer": built.ids["Acme"],
        "service": built.ids["Archive"],
        "units": "10000000000",
        "price_per_unit": "10000000",
        "start_date": "2025-01-01",
    }
    count = len(api.get("/api/v1/subscriptions/", page_size=100).json()["results"])
    if channel == "single":
        answer = api.post("/api/v1/subscriptions/", item)
        field = "price_per_unit"
    else:
        answer = api.post(
            "/api/v1/sync/subscriptions/",
            {
                "source": "crm",
                "items": [
                    {"external_id": "ok", **item, "units": "1"},
                    {"external_id": "big", **item},
                ],
            },
        )
        field = "items.1.price_per_unit"
    assert answer.status_code == 400, answer.content
    assert "largest amount" in answer.json()["errors"][field][0]
    assert len(api.get("/api/v1/subscriptions/", page_size=100).json()["results"]) == count
