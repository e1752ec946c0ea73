"""Live progress of background work: a report's runs list follows a run it asked for until
the run is done (then shows its files), and the pages that show a period's figures say when
they are being recomputed (queued, running) and swap the new figures in when the run is done.
Polling stops when nothing is pending. The browser side, with a real worker, is in
tests/e2e/test_progress.py."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance import services
from finance.choices import ReportOutcome
from finance.choices import ReportTrigger
from finance.choices import RunOutcome
from finance.choices import RunTrigger
from finance.models import Period
from finance.models import ReportFile
from finance.models import ReportRun
from finance.models import TcoRun
from tests.factories.finance import CostItemFactory
from tests.factories.finance import PeriodFactory
from tests.factories.finance import ReportDefinitionFactory
from tests.factories.portfolio import ServiceFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
POLL = 'hx-trigger="every 1s"'


def report_run(definition, outcome, *, started_at=None) -> ReportRun:
    return ReportRun.objects.create(
        definition=definition,
        period_key="2025-03",
        first_month="2025-03",
        last_month="2025-03",
        trigger=ReportTrigger.MANUAL,
        outcome=outcome,
        started_at=started_at or timezone.now(),
    )


# --- Report runs ------------------------------------------------------------------------------


def test_report_runs_poll_while_a_run_is_queued(client, finance_user):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)
    # Queued while the broker is unreachable: written, not yet sent.
    services.queue_task(task="finance.tasks.run_report", args=[definition.pk])

    page = client.get(definition.get_absolute_url()).content.decode()

    assert POLL in page and "A run of this report is queued or under way" in page


def test_report_runs_poll_while_running_then_show_the_files(
    client, finance_user, django_assert_max_num_queries
):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)
    run = report_run(definition, ReportOutcome.RUNNING)

    with django_assert_max_num_queries(8):
        response = client.get(definition.get_absolute_url(), **HTMX)
    partial = response.content.decode()
    assert response.status_code == 200 and "<html" not in partial
    assert 'id="report-runs"' in partial and POLL in partial and "Running" in partial

    ReportRun.objects.filter(pk=run.pk).update(
        outcome=ReportOutcome.SUCCEEDED, finished_at=timezone.now()
    )
    file = ReportFile.objects.create(
        run=run,
        format="csv",
        filename="pack.csv",
        content_type="text/csv",
        content=b"a,b\n",
        size=4,
        rendered_at=timezone.now(),
    )
    partial = client.get(definition.get_absolute_url(), **HTMX).content.decode()
    assert POLL not in partial and "hx-get" not in partial.split("<table")[0]
    assert file.get_absolute_url() in partial and "Succeeded" in partial


def test_report_runs_wait_for_the_run_asked_for_then_stop(client, finance_user):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)
    asked = timezone.now().replace(microsecond=0)
    url = f"{definition.get_absolute_url()}?requested={int(asked.timestamp())}"
    # The task was sent (no queued row) and no worker has started it yet.
    earlier = report_run(
        definition, ReportOutcome.SUCCEEDED, started_at=asked - datetime.timedelta(days=1)
    )

    partial = client.get(url, **HTMX).content.decode()
    assert POLL in partial and f"?requested={int(asked.timestamp())}" in partial

    # The worker starts it: a rerun of the same period starts the row again.
    ReportRun.objects.filter(pk=earlier.pk).update(started_at=asked)
    partial = client.get(url, **HTMX).content.decode()
    assert POLL not in partial

    # A request long past, or a value that is no time, follows nothing.
    old = int((asked - datetime.timedelta(hours=1)).timestamp())
    ReportRun.objects.all().delete()
    for requested in (str(old), "soon", "9" * 40, "-1"):
        response = client.get(f"{definition.get_absolute_url()}?requested={requested}", **HTMX)
        assert response.status_code == 200 and POLL not in response.content.decode()


def test_run_now_leads_to_a_page_that_follows_the_run(client, finance_user):
    definition = ReportDefinitionFactory(name="Pack")
    client.force_login(finance_user)

    response = client.post(reverse("finance:report_run", args=[definition.pk]), {"period": ""})

    assert response.status_code == 302 and "?requested=" in response.url
    page = client.get(response.url).content.decode()
    assert POLL in page and "reload the page" not in page


# --- TCO recomputation ------------------------------------------------------------------------


@pytest.fixture
def computed_service(db):
    period = PeriodFactory(year=2025, month=3)
    service = ServiceFactory(name="Quotes", slug="quotes")
    CostItemFactory(period=period, service=service, amount=Decimal("100.00"))
    services.recompute_tco(period=period)
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=None)
    period.refresh_from_db()
    return period, service


def recomputing_url(period) -> str:
    return reverse("finance:period_recomputing", args=[period.label])


def test_recomputation_state_is_queued_running_or_nothing(
    computed_service, django_assert_num_queries
):
    from finance import selectors

    period, _ = computed_service
    with django_assert_num_queries(1):
        assert selectors.recomputation_state(period=period) == ""
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())
    assert selectors.recomputation_state(period=period) == "queued"
    TcoRun.objects.create(
        period=period, version=1, trigger=RunTrigger.CHANGE, started_at=timezone.now()
    )
    assert selectors.recomputation_state(period=period) == "running"
    TcoRun.objects.update(outcome=RunOutcome.SUCCEEDED)
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=None)
    assert selectors.recomputation_state(period=period) == ""


def test_the_recomputing_note_polls_until_done_then_announces_it(
    client, finance_user, computed_service, django_assert_max_num_queries
):
    period, _ = computed_service
    client.force_login(finance_user)
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())

    with django_assert_max_num_queries(6):
        response = client.get(recomputing_url(period), **HTMX)
    note = response.content.decode()
    assert "Being recomputed" in note and "queued for recomputation" in note
    assert 'hx-trigger="every 2s"' in note and "HX-Trigger" not in response.headers

    run = TcoRun.objects.create(
        period=period, version=1, trigger=RunTrigger.CHANGE, started_at=timezone.now()
    )
    note = client.get(recomputing_url(period), **HTMX).content.decode()
    assert "being recomputed now" in note and 'hx-trigger="every 2s"' in note

    TcoRun.objects.filter(pk=run.pk).update(outcome=RunOutcome.SUCCEEDED)
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=None)
    response = client.get(recomputing_url(period), **HTMX)
    assert response.headers["HX-Trigger"] == "tco-recomputed"
    assert "hx-get" not in response.content.decode()


def test_the_recomputing_note_answers_404_and_403_not_500(client, viewer, computed_service):
    client.force_login(viewer)
    for label in ("2099-01", "nonsense", "2025-13"):
        url = reverse("finance:period_recomputing", args=[label])
        assert client.get(url).status_code == 404
    client.logout()
    period, _ = computed_service
    assert client.get(recomputing_url(period)).status_code in (302, 403)


def test_service_page_says_when_its_figures_are_being_recomputed(
    client, finance_user, computed_service
):
    period, service = computed_service
    client.force_login(finance_user)
    page = client.get(service.get_absolute_url()).content.decode()
    assert "Being recomputed" not in page and "tco-recomputed" not in page

    # A cost edit marks the period; the page says so and follows the recomputation.
    CostItemFactory(period=period, service=service, amount=Decimal("50.00"))
    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())
    page = client.get(service.get_absolute_url()).content.decode()
    assert "Being recomputed" in page and recomputing_url(period) in page
    panel_url = reverse("finance:service_tco", args=[service.slug])
    assert f'hx-get="{panel_url}?tco_period={period.label}"' in page
    assert 'hx-trigger="tco-recomputed from:body"' in page

    services.recompute_tco(period=period)
    panel = client.get(f"{panel_url}?tco_period={period.label}", **HTMX).content.decode()
    assert "<html" not in panel and "Being recomputed" not in panel
    assert "150.00" in panel and "tco-recomputed" not in panel


def test_fund_services_reloads_its_table_when_the_recomputation_is_done(
    client, finance_user, computed_service
):
    period, _ = computed_service
    client.force_login(finance_user)
    url = f"{reverse('finance:overview')}?period={period.label}"
    page = client.get(url).content.decode()
    assert "Being recomputed" not in page and "tco-recomputed" not in page

    Period.objects.filter(pk=period.pk).update(recompute_requested_at=timezone.now())
    page = client.get(url).content.decode()
    assert "Being recomputed" in page and 'hx-trigger="tco-recomputed from:body"' in page

    services.recompute_tco(period=period)
    table = client.get(url, **HTMX).content.decode()
    assert 'id="services"' in table and "tco-recomputed" not in table


def test_a_closed_period_is_never_being_recomputed(client, finance_user, computed_service):
    period, service = computed_service
    Period.objects.filter(pk=period.pk).update(
        status="closed", recompute_requested_at=timezone.now()
    )
    client.force_login(finance_user)
    assert "Being recomputed" not in client.get(service.get_absolute_url()).content.decode()
    response = client.get(recomputing_url(period))
    assert response.headers["HX-Trigger"] == "tco-recomputed"
