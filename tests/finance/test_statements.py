"""Customer statements where people see them: the Statements list (filters, exports, the
filtered set as one PDF or XLSX), a statement's page (lines, lineage, what a restatement
changed), the customer page, the Fund services views by customer and by value stream, and the
"Customer statements" report: one message per relationship manager and period, exactly once,
through a real SMTP server (aiosmtpd), its PDF and XLSX reconciling with each other and with
the API. The tests share one closed month, made once for the module."""

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from core import roles
from finance import services
from finance import statement_reports
from finance.choices import ReportKind
from finance.choices import ReportOutcome
from finance.models import CustomerStatement
from finance.models import ReportDefinition
from finance.models import ReportRun
from finance.models import TcoResult
from finance.selectors import statements as statement_selectors
from tests.factories import UserFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.statements import statement_with_lines
from tests.finance.statement_scenarios import make_statement_month

CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def month_of_the_module(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield make_statement_month()
        transaction.set_rollback(True)


@pytest.fixture
def month(db, month_of_the_module):
    return month_of_the_module


def number(value) -> Decimal:
    assert isinstance(value, int | float), f"{value!r} is not a number"
    return Decimal(str(value)).quantize(CENT)


def pdf_text(content: bytes) -> str:
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"
    assert content.startswith(b"%PDF")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def table(response) -> str:
    """The list's table alone (the filters name every customer)."""
    page = response.content.decode()
    start = page.index('id="object-table"')
    return page[start : page.index("</table>", start)]


def stored(period) -> dict[str, CustomerStatement]:
    period = type(period).objects.get(pk=period.pk)  # as stored: a test may have restated it
    return {
        s.customer.name: s
        for s in CustomerStatement.objects.filter(
            period=period, version=period.current_version
        ).select_related("customer")
    }


def xlsx_figures(content: bytes) -> tuple[dict, dict, list]:
    """The XLSX's statements by customer, its total row, and its lines (as dicts)."""
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Statements", "Lines"]
    summary = workbook["Statements"]
    headers = [c.value for c in summary[statement_reports.HEADER_ROW]]
    rows = [
        dict(zip(headers, row, strict=True))
        for row in summary.iter_rows(min_row=statement_reports.HEADER_ROW + 1, values_only=True)
        if row[0]
    ]
    by_customer = {row["Customer"]: row for row in rows if row["Customer"] != "Total"}
    total = next(row for row in rows if row["Customer"] == "Total")
    sheet = workbook["Lines"]
    line_headers = [c.value for c in sheet[statement_reports.HEADER_ROW]]
    lines = [
        dict(zip(line_headers, row, strict=True))
        for row in sheet.iter_rows(min_row=statement_reports.HEADER_ROW + 1, values_only=True)
        if row[0] and row[0] != "Total"
    ]
    return by_customer, total, lines


# --- The Statements list ---------------------------------------------------------------------


def test_list_filters_by_period_customer_and_relationship_manager(client, viewer, month):
    client.force_login(viewer)
    url = reverse("finance:statement_list")

    page = table(client.get(url))
    for name in ("Retail", "Fleet", "Brokers", "Walk-in"):
        assert name in page
    assert "Alice Archer" in page and "Bob Baker" in page
    by_manager = table(client.get(url, {"relationship_manager": "alice"}))
    assert "Retail" in by_manager and "Fleet" in by_manager
    assert "Brokers" not in by_manager and "Walk-in" not in by_manager
    by_customer = table(client.get(url, {"customer": "brokers", "period": "2025-03"}))
    assert "Brokers" in by_customer and "Retail" not in by_customer
    other_month = table(client.get(url, {"period": "2025-04"}))
    assert "Retail" not in other_month
    # The filters ask for the table alone.
    partial = client.get(url, {"customer": "fleet"}, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="object-table">') and "Fleet" in partial


def test_bad_period_filter_is_named_not_a_500(client, viewer, month):
    client.force_login(viewer)
    response = client.get(reverse("finance:statement_list"), {"period": "March"})
    assert response.status_code == 200
    assert "A period is written YYYY-MM" in response.content.decode()
    assert "Retail" not in table(response)


def test_list_export_neutralises_formulas(client, viewer, month):
    sneaky = CustomerFactory(name="=HYPERLINK(1)", slug="sneaky")
    statement_with_lines(period=month["march"], customer=sneaky, lines=[])
    client.force_login(viewer)
    response = client.get(reverse("finance:statement_list"), {"export": "csv"})
    text = response.content.decode()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    xlsx = client.get(reverse("finance:statement_list"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    names = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert "'=HYPERLINK(1)" in names


def test_filtered_set_downloads_as_one_pdf_and_xlsx_that_reconcile(client, viewer, month):
    march = month["march"]
    client.force_login(viewer)
    url = reverse("finance:statement_list")
    xlsx = client.get(url, {"relationship_manager": "alice", "download": "xlsx"})
    assert xlsx.status_code == 200, xlsx.content
    assert "customer-statements-all.xlsx" in xlsx["Content-Disposition"]
    by_customer, total, lines = xlsx_figures(xlsx.content)
    statements = stored(march)
    assert set(by_customer) == {"Retail", "Fleet"}
    for name, row in by_customer.items():
        assert number(row["Revenue"]) == statements[name].revenue
        assert number(row["Cost to serve"]) == statements[name].cost_to_serve
    assert number(total["Cost to serve"]) == sum(
        statements[n].cost_to_serve for n in ("Retail", "Fleet")
    )
    assert sum(number(line["Cost to serve"]) for line in lines) == number(total["Cost to serve"])

    pdf = client.get(url, {"relationship_manager": "alice", "download": "pdf"})
    text = pdf_text(pdf.content)
    assert "Retail" in text and "Fleet" in text and "Brokers" not in text
    assert f"{number(total['Cost to serve']):,.2f}" in text
    assert f"{number(total['Revenue']):,.2f}" in text

    refused = client.get(url, {"download": "docx"})
    assert refused.status_code == 400 and b"download" in refused.content
    bad_period = client.get(url, {"download": "pdf", "period": "soon"})
    assert bad_period.status_code == 400 and b"period" in bad_period.content


# --- One statement ---------------------------------------------------------------------------


def test_statement_page_shows_lines_with_lineage_and_downloads(client, viewer, month):
    march = month["march"]
    statement = stored(march)["Fleet"]
    client.force_login(viewer)
    url = reverse("finance:statement_detail", args=[statement.pk])
    page = client.get(url).content.decode()
    assert "Claims" in page and "Quotes" in page
    lineage = reverse("finance:service_lineage", args=["claims"]) + "?period=2025-03"
    assert lineage in page
    for line in statement.lines.all():
        assert f"{line.cost_to_serve:,.2f}" in page
    assert client.get(lineage).status_code == 200

    by_customer, _, lines = xlsx_figures(client.get(url, {"download": "xlsx"}).content)
    assert number(by_customer["Fleet"]["Cost to serve"]) == statement.cost_to_serve
    assert {line["Service"] for line in lines} == {"Claims", "Quotes"}
    assert all(line["Lineage"].endswith("?period=2025-03") for line in lines)
    text = pdf_text(client.get(url, {"download": "pdf"}).content)
    assert f"{statement.cost_to_serve:,.2f}" in text and "Fleet" in text
    assert client.get(reverse("finance:statement_detail", args=[999999])).status_code == 404


def test_restated_period_shows_the_difference_per_customer(client, viewer, month):
    march = type(month["march"]).objects.get(pk=month["march"].pk)  # the module's stays as is
    fleet_quotes = type(month["subscriptions"][2]).objects.get(pk=month["subscriptions"][2].pk)
    fleet_quotes.units = Decimal(15)  # now as many policies as Brokers: more of Quotes' cost
    fleet_quotes.save()
    services.restate_period(period=march, reason="Fleet's policies were miscounted")
    march.refresh_from_db()
    old = CustomerStatement.objects.get(period=march, version=1, customer=month["fleet"])
    new = CustomerStatement.objects.get(period=march, version=2, customer=month["fleet"])
    assert new.cost_to_serve > old.cost_to_serve

    client.force_login(viewer)
    page = client.get(reverse("finance:statement_detail", args=[new.pk])).content.decode()
    assert "What version 2 changed against version 1" in page
    assert f"{new.cost_to_serve - old.cost_to_serve:,.2f}" in page
    listing = client.get(reverse("finance:statement_list"), {"period": "2025-03"})
    text = listing.content.decode()
    assert "what version 2 changed against version 1, per customer" in text
    assert "Fleet" in text and "Brokers" in text  # both moved; Retail did not
    old_page = client.get(reverse("finance:statement_detail", args=[old.pk])).content.decode()
    assert "superseded" in old_page


# --- The customer page -----------------------------------------------------------------------


def test_customer_page_shows_the_latest_statement_with_a_period_choice(client, viewer, month):
    march = month["march"]
    april = type(march).objects.create(year=2025, month=4)
    statement_with_lines(
        period=april,
        customer=month["retail"],
        lines=[(month["subscriptions"][0], "125.00", "77.77")],
    )
    client.force_login(viewer)
    url = month["retail"].get_absolute_url()
    page = client.get(url).content.decode()
    assert 'id="statement"' in page and "77.77" in page  # April: the latest
    march_statement = stored(march)["Retail"]
    chosen = client.get(url, {"statement_period": "2025-03"}).content.decode()
    assert f"{march_statement.cost_to_serve:,.2f}" in chosen and "77.77" not in chosen
    assert reverse("finance:statement_detail", args=[march_statement.pk]) in chosen


def test_customer_page_without_statements_says_so(client, viewer, db):
    customer = CustomerFactory(name="Newcomer")
    client.force_login(viewer)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "No statement has been computed for this customer yet" in page


# --- Fund services by customer and by value stream -------------------------------------------


def test_fund_services_by_customer_adds_up_to_the_kept_total(client, viewer, month):
    march = month["march"]
    client.force_login(viewer)
    page = client.get(reverse("finance:overview"), {"period": "2025-03", "view": "customer"})
    text = page.content.decode()
    kept = sum(r.kept for r in TcoResult.objects.filter(period=march, version=1))
    charged = sum(s.cost_to_serve for s in stored(march).values())
    not_charged = sum(r.not_charged for r in TcoResult.objects.filter(period=march, version=1))
    assert charged + not_charged == kept
    assert "By customer" in text and "Not charged to any customer" in text
    assert f"{kept:,.2f}" in text and "differs from" not in text
    for name in ("Retail", "Fleet", "Brokers", "Walk-in"):
        assert name in text


def test_fund_services_by_customer_lists_the_largest_and_totals_every_one(
    client, viewer, month, monkeypatch
):
    monkeypatch.setattr(statement_selectors, "SHOWN", 2)
    client.force_login(viewer)
    page = client.get(reverse("finance:overview"), {"period": "2025-03", "view": "customer"})
    text = page.content.decode()
    assert "The 2 largest of 4 customers" in text
    kept = sum(r.kept for r in TcoResult.objects.filter(period=month["march"], version=1))
    assert f"{kept:,.2f}" in text and "differs from" not in text


def test_fund_services_by_value_stream_adds_up_to_the_kept_total(client, viewer, month):
    client.force_login(viewer)
    page = client.get(reverse("finance:overview"), {"period": "2025-03", "view": "stream"})
    text = page.content.decode()
    assert "By value stream" in text and "In no value stream" in text
    assert "differs from" not in text
    march = month["march"]
    results = {r.service.name: r for r in TcoResult.objects.filter(period=march, version=1)}
    assert "Settle a claim" in text and "Register the claim" in text
    assert f"{results['Claims'].kept:,.2f}" in text  # the stream carries all of Claims' kept
    assert results["Quotes"].in_no_value_stream == results["Quotes"].kept
    kept = sum(r.kept for r in results.values())
    assert f"{kept:,.2f}" in text
    services_view = client.get(reverse("finance:overview"), {"period": "2025-03"})
    assert 'aria-current="page">By service' in services_view.content.decode()


# --- The "Customer statements" report ---------------------------------------------------------


def statements_report(**options):
    return ReportDefinitionFactory(
        name="Statements", kind=ReportKind.STATEMENTS, formats=["xlsx", "pdf"], **options
    )


def test_each_relationship_manager_gets_one_message_once_per_period(smtp, month):
    definition = statements_report()
    run = services.run_report(definition)
    assert run.outcome == ReportOutcome.SUCCEEDED, run.error

    by_address = {tuple(m["to"]): m for m in smtp.messages}
    assert sorted(by_address) == [
        ("alice@example.org",),
        ("bob@example.org",),
        ("cfo@example.org",),
        ("controller@example.org",),
    ]
    statements = stored(month["march"])
    expected = {
        "alice@example.org": {"Retail", "Fleet"},
        "bob@example.org": {"Brokers"},
        "cfo@example.org": {"Walk-in"},
        "controller@example.org": {"Walk-in"},
    }
    for index, sent in enumerate(smtp.messages):
        assert sent["message"]["Subject"] == "Statements · 2025-03"
        files = smtp.attachments(index)
        assert set(files) == {"statements-2025-03.xlsx", "statements-2025-03.pdf"}
        by_customer, total, lines = xlsx_figures(files["statements-2025-03.xlsx"][1])
        assert set(by_customer) == expected[sent["to"][0]]
        text = pdf_text(files["statements-2025-03.pdf"][1])
        for name, row in by_customer.items():
            assert number(row["Cost to serve"]) == statements[name].cost_to_serve
            assert number(row["Revenue"]) == statements[name].revenue
            assert name in text
        assert f"{number(total['Cost to serve']):,.2f}" in text
        assert f"{number(total['Revenue']):,.2f}" in text
        assert sum(number(line["Cost to serve"]) for line in lines) == number(
            total["Cost to serve"]
        )
    stored_run = ReportRun.objects.get(pk=run.pk)
    assert sorted(stored_run.emailed_to) == sorted(expected)
    assert stored_run.email_count == 1

    again = services.run_report(definition)
    assert again.outcome == ReportOutcome.SUCCEEDED
    assert len(smtp.messages) == 4  # nothing sent again
    assert "not e-mailed again" in again.note
    # The stored files hold every statement.
    by_customer, _, _ = xlsx_figures(bytes(again.files.get(format="xlsx").content))
    assert set(by_customer) == {"Retail", "Fleet", "Brokers", "Walk-in"}


def test_statements_report_figures_match_the_api(client, smtp, month, finance_user):
    services.run_report(statements_report())
    client.force_login(finance_user)
    response = client.get("/api/v1/customer-statements/", {"period": "2025-03"})
    assert response.status_code == 200, response.content
    api = {row["customer"]["id"]: row for row in response.json()["results"]}
    alice = next(i for i, m in enumerate(smtp.messages) if m["to"] == ["alice@example.org"])
    by_customer, _, lines = xlsx_figures(smtp.attachments(alice)["statements-2025-03.xlsx"][1])
    assert set(by_customer) == {"Retail", "Fleet"}
    for name, row in by_customer.items():
        entry = api[month[name.lower()].pk]
        assert Decimal(entry["cost_to_serve"]) == number(row["Cost to serve"])
        assert Decimal(entry["revenue"]) == number(row["Revenue"])
        assert Decimal(entry["margin"]) == number(row["Margin"])
        api_lines = {line["subscription"]["id"]: line for line in entry["lines"]}
        for line in (line for line in lines if line["Customer"] == name):
            assert Decimal(api_lines[line["Subscription"]]["cost_to_serve"]) == number(
                line["Cost to serve"]
            )


def test_a_failed_message_is_sent_on_the_next_run_alone(smtp, month):
    definition = statements_report()
    smtp.refuse = 1  # the first message (to alice, in address order) is turned away
    failed = services.run_report(definition)
    assert failed.outcome == ReportOutcome.FAILED
    assert "alice@example.org" in failed.error
    assert smtp.messages == []

    retried = services.run_report(definition)
    assert retried.outcome == ReportOutcome.SUCCEEDED, retried.error
    assert sorted(m["to"][0] for m in smtp.messages) == [
        "alice@example.org",
        "bob@example.org",
        "cfo@example.org",
        "controller@example.org",
    ]
    services.run_report(definition, resend=True)
    assert len(smtp.messages) == 8  # asked to send again: every one again


def test_a_manager_without_an_address_falls_back_to_the_recipients(smtp, month):
    alice = type(month["alice"]).objects.get(pk=month["alice"].pk)
    alice.email = ""
    alice.save()
    services.run_report(statements_report(recipients=["finance@example.org"]))
    assert [m["to"] for m in smtp.messages] == [["bob@example.org"], ["finance@example.org"]]
    by_customer, _, _ = xlsx_figures(smtp.attachments(1)["statements-2025-03.xlsx"][1])
    assert set(by_customer) == {"Retail", "Fleet", "Walk-in"}


def test_statements_report_refuses_a_scope(db):
    with pytest.raises(ValidationError) as refused:
        statements_report(scope={"kind": "supporting"})
    assert "scope" in refused.value.message_dict


def test_report_form_offers_the_statements_kind(client, finance_user, db):
    client.force_login(finance_user)
    page = client.get(reverse("finance:report_add")).content.decode()
    assert "Customer statements" in page
    response = client.post(
        reverse("finance:report_add"),
        {
            "name": "Monthly statements",
            "kind": "statements",
            "period_selector": "last_month",
            "formats": ["pdf", "xlsx"],
            "recipients": "finance@example.org",
            "minute": "0",
            "hour": "7",
            "day_of_month": "3",
            "month_of_year": "*",
            "day_of_week": "*",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    definition = ReportDefinition.objects.get(name="Monthly statements")
    assert definition.kind == ReportKind.STATEMENTS and definition.periodic_task is not None
    page = client.get(definition.get_absolute_url()).content.decode()
    assert "Customer statements" in page and "Every customer" in page
    listing = client.get(reverse("finance:report_list")).content.decode()
    assert "Customer statements" in listing


def test_no_role_sees_no_statement(client, month):
    nobody = UserFactory(username="nobody")
    client.force_login(nobody)
    statement = stored(month["march"])["Retail"]
    assert client.get(reverse("finance:statement_detail", args=[statement.pk])).status_code == 403
    page = client.get(reverse("finance:statement_list")).content.decode()
    assert "Retail" not in page  # neither a row nor a customer to choose
    viewer = UserFactory(username="reader", role=roles.VIEWER)
    client.force_login(viewer)
    assert client.get(reverse("finance:statement_detail", args=[statement.pk])).status_code == 200


def test_fund_services_by_unit_rolls_kept_cost_up_the_hierarchy(client, viewer, month):
    from people.models import OrganisationUnit
    from portfolio.models import Service
    from tests.factories.people import OrganisationUnitFactory

    march = month["march"]
    results = {r.service.name: r for r in TcoResult.objects.filter(period=march, version=1)}
    division = OrganisationUnitFactory(name="Insurance operations", kind="division")
    claims_team = OrganisationUnitFactory(name="Claims team", parent=division)
    OrganisationUnitFactory(name="Empty team", parent=division)
    Service.objects.filter(name="Claims").update(unit=claims_team)
    Service.objects.filter(name="Quotes").update(unit=division)
    client.force_login(viewer)
    page = client.get(reverse("finance:overview"), {"period": "2025-03", "view": "unit"})
    text = page.content.decode()
    assert "By organisation unit" in text and "differs from" not in text
    view = page.context["by_unit"]
    totals = {row["unit"].name: (row["own"], row["total"]) for row in view["rows"]}
    claims, quotes = results["Claims"].kept, results["Quotes"].kept
    assert totals["Claims team"] == (claims, claims)
    assert totals["Insurance operations"] == (quotes, quotes + claims)
    assert totals["Empty team"] == (0, 0)
    kept = sum(r.kept for r in results.values())
    assert view["units_total"] + view["in_no_unit_total"] == kept == view["total"]
    assert view["in_no_unit_total"] == kept - claims - quotes
    assert f"{(quotes + claims):,.2f}" in text
    assert OrganisationUnit.objects.count() == 3
