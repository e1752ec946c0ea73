"""E-mailed reports in each reader's language (people.Profile.language): scheduled reports
group their recipients by language, statements go to each relationship manager in theirs;
the files kept with the run stay in the original language."""

import io

import pytest
from openpyxl import load_workbook

from finance import services
from finance import statement_reports
from finance.choices import ReportKind
from finance.choices import ReportOutcome
from people import services as people_services
from portfolio.models import Customer
from tests.factories import UserFactory
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ServiceFactory
from tests.finance.statement_scenarios import make_statement_month

pytestmark = pytest.mark.django_db


@pytest.fixture
def french(settings):
    settings.PORTICO_LANGUAGES = ["en", "fr"]
    settings.LANGUAGES = [("en", "English"), ("fr", "français")]


def attachment_text(smtp, recipient: str, name: str) -> str:
    (index,) = [i for i, m in enumerate(smtp.messages) if m["to"] == [recipient]]
    return smtp.attachments(index)[name][1].decode("utf-8-sig")


def test_a_scheduled_report_is_mailed_to_each_reader_in_their_language(french, smtp):
    reader = UserFactory(username="claire", email="Claire@example.org")
    people_services.set_language(user=reader, language="fr")
    service = ServiceFactory(name="Claims handling", translations={"fr": {"name": "Sinistres"}})
    period = PeriodFactory(year=2025, month=3)
    CostItemFactory(period=period, service=service)
    services.close_period(period=period)
    definition = ReportDefinitionFactory(
        name="Pack", formats=["csv"], recipients=["claire@example.org", "cfo@example.org"]
    )

    run = services.run_report(definition, period="2025-03")

    assert run.outcome == ReportOutcome.SUCCEEDED, run.error
    assert len(smtp.messages) == 2
    french_csv = attachment_text(smtp, "claire@example.org", "pack-2025-03.csv")
    english_csv = attachment_text(smtp, "cfo@example.org", "pack-2025-03.csv")
    assert "Sinistres" in french_csv and "Claims handling" not in french_csv
    assert "Claims handling" in english_csv and "Sinistres" not in english_csv
    kept = bytes(run.files.get(format="csv").content).decode("utf-8-sig")
    assert "Claims handling" in kept


def test_statements_reach_each_relationship_manager_in_their_language(french, smtp):
    month = make_statement_month()
    people_services.set_language(user=month["alice"], language="fr")
    Customer.objects.filter(name="Retail").update(translations={"fr": {"name": "Commerce"}})
    definition = ReportDefinitionFactory(
        name="Statements",
        kind=ReportKind.STATEMENTS,
        formats=["xlsx"],
        recipients=["finance@example.org"],
    )

    run = services.run_report(definition)

    assert run.outcome == ReportOutcome.SUCCEEDED, run.error

    def customers(recipient: str) -> set[str]:
        (index,) = [i for i, m in enumerate(smtp.messages) if m["to"] == [recipient]]
        (content,) = [body for _, body in smtp.attachments(index).values()]
        sheet = load_workbook(io.BytesIO(content))["Statements"]
        rows = sheet.iter_rows(min_row=statement_reports.HEADER_ROW + 1, values_only=True)
        return {row[0] for row in rows if row[0] and row[0] != "Total"}

    assert customers("alice@example.org") == {"Commerce", "Fleet"}
    assert customers("bob@example.org") == {"Brokers"}
    assert customers("finance@example.org") == {"Walk-in"}
