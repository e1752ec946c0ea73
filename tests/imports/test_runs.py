"""An import run end to end, without the browser: preview (nothing written), commit (all of
it, channel ``import``), a re-import that changes nothing, errors by row and column, full
mode retirements, rights, and the errors' export."""

import csv
import io

import pytest
from django.urls import reverse

from core.choices import Channel
from core.models import ObjectChange
from imports import services
from imports import tasks
from imports.choices import RunState
from imports.models import ColumnMapping
from notifications.choices import EventKind
from notifications.models import Notification
from portfolio.models import Service
from portfolio.models import SpecificationItem
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory
from tests.imports.files import services_and_items
from tests.imports.files import workbook

pytestmark = pytest.mark.django_db


def as_guessed(run) -> list[dict]:
    return [{"resource": s["resource"], "mapping": s["mapping"]} for s in run.sheets]


def previewed(user, content: bytes, *, name="portfolio.xlsx", mode="upsert", **options):
    run = services.start_run(user=user, filename=name, content=content, source="sheet")
    services.map_and_preview(run=run, choices=as_guessed(run), mode=mode, **options)
    assert tasks.preview_run(run.pk) == RunState.PREVIEWED
    run.refresh_from_db()
    return run


def committed(run):
    services.request_commit(run=run)
    assert tasks.commit_run(run.pk) == RunState.COMMITTED
    run.refresh_from_db()
    return run


def counts(run, resource: str, result: bool = False) -> dict:
    summary = (run.result if result else run.preview)["sheets"]
    (sheet,) = [s for s in summary if s["resource"] == resource]
    return {**sheet["counts"], "retired": sheet["retired_total"]}


def test_preview_writes_nothing_then_commit_writes_all_then_again_is_unchanged(
    portfolio_manager,
):
    content = services_and_items(30, owner="pm")
    run = previewed(portfolio_manager, content)
    assert run.preview["errors"] == []
    expected = {"created": 30, "updated": 0, "unchanged": 0, "retired": 0, "deleted": 0}
    assert counts(run, "services") == expected
    assert counts(run, "specification-items") == expected
    assert not Service.objects.exists() and not SpecificationItem.objects.exists()
    assert not ObjectChange.objects.filter(channel=Channel.IMPORT).exists()

    run = committed(run)
    assert counts(run, "specification-items", result=True)["created"] == 30
    assert Service.objects.filter(source="sheet").count() == 30
    assert SpecificationItem.objects.filter(service__external_id="svc-7").get().title == "Opens 7"
    logged = ObjectChange.objects.filter(channel=Channel.IMPORT, source="sheet")
    assert logged.count() == 60 and {c.user_id for c in logged} == {portfolio_manager.pk}
    # The file is kept with the run, byte for byte.
    assert bytes(run.content) == content

    again = previewed(portfolio_manager, content)
    unchanged = {"created": 0, "updated": 0, "unchanged": 30, "retired": 0, "deleted": 0}
    assert counts(again, "services") == unchanged
    assert counts(again, "specification-items") == unchanged
    # One item retitled: one update, the rest unchanged.
    retitled = previewed(portfolio_manager, services_and_items(30, owner="pm", title="Opens!"))
    assert counts(retitled, "specification-items")["updated"] == 30


def test_errors_are_told_by_row_and_column_in_the_files_terms(portfolio_manager):
    content = workbook(
        {
            "Services": [
                ("Key", "Name", "Kind", "Owner"),
                ("a", "Claims", "Customer facing", "pm"),
                ("b", "Payments", "galactic", "pm"),
                ("c", None, "internal", "pm"),
                ("d", "Claims", "internal", "nobody-by-this-name"),
            ]
        }
    )
    run = previewed(portfolio_manager, content)
    assert run.state == RunState.PREVIEWED
    rows = {(e["row"], e["column"]): e["message"] for e in run.preview["errors"]}
    assert "“galactic” is not a valid choice" in rows[(3, "Kind")]
    assert (5, "Owner") in rows
    # An empty cell is a field not given: a new record needs its name.
    assert rows[(4, "Name")] == "This field is required."
    assert not Service.objects.exists()
    # A required field no column fills is named.
    content = workbook({"Services": [("Key", "Kind"), ("a", "internal")]})
    (error,) = previewed(portfolio_manager, content).preview["errors"]
    assert (error["row"], error["column"]) == (2, "")
    assert error["message"] == "Name: This field is required. (no column fills it)"
    # No commit with errors.
    with pytest.raises(services.RunRefused):
        services.request_commit(run=run)


def test_a_full_import_previews_and_then_retires_what_the_file_leaves_out(portfolio_manager):
    committed(previewed(portfolio_manager, services_and_items(10, owner="pm")))
    # Eight of ten: two services (and their items) would be retired, a fifth of them.
    fewer = services_and_items(8, owner="pm")
    run = previewed(portfolio_manager, fewer, mode="full")
    assert counts(run, "services")["retired"] == 2
    (sheet,) = [s for s in run.preview["sheets"] if s["resource"] == "services"]
    assert {r["external_id"] for r in sheet["retirements"]} == {"svc-8", "svc-9"}
    assert not Service.objects.filter(lifecycle="retired").exists()
    committed(run)
    assert set(
        Service.objects.filter(lifecycle="retired").values_list("external_id", flat=True)
    ) == {
        "svc-8",
        "svc-9",
    }


def test_a_full_import_that_would_retire_most_records_asks_to_be_allowed(portfolio_manager):
    committed(previewed(portfolio_manager, services_and_items(10, owner="pm")))
    run = previewed(portfolio_manager, services_and_items(2, owner="pm"), mode="full")
    assert any("8 of 10 records would be retired" in e["message"] for e in run.preview["errors"])
    run = previewed(
        portfolio_manager, services_and_items(2, owner="pm"), mode="full", allow_mass_retire=True
    )
    assert counts(run, "services")["retired"] == 8


def test_an_import_asks_the_rights_of_every_row(service_owner, other_owner):
    theirs = ServiceFactory(owner=other_owner, source="sheet", external_id="theirs")
    content = workbook(
        {
            "Specification items": [
                ("External id", "Service", "Aspect", "Dimension", "Title"),
                ("i-1", "theirs", "facility", "functionality", "Opens"),
            ]
        }
    )
    run = previewed(service_owner, content)
    (error,) = run.preview["errors"]
    assert error["row"] == 2 and "may not" in error["message"].lower()
    assert not theirs.items.exists()


def test_a_commit_refused_meanwhile_writes_nothing_and_says_why(portfolio_manager):
    run = previewed(portfolio_manager, services_and_items(3, owner="pm"))
    services.request_commit(run=run)
    # The owner named in the file loses the right to own services before the commit.
    portfolio_manager.groups.clear()
    assert tasks.commit_run(run.pk) == RunState.FAILED
    run.refresh_from_db()
    assert run.error and run.preview["errors"]
    assert not Service.objects.exists()


def test_the_user_is_notified_when_a_preview_and_a_commit_are_done(portfolio_manager):
    run = committed(previewed(portfolio_manager, services_and_items(2, owner="pm")))
    told = Notification.objects.filter(recipient=portfolio_manager, kind=EventKind.IMPORT)
    assert [n.subject for n in told.order_by("pk")] == [
        "Import preview ready: portfolio.xlsx",
        "Import committed: portfolio.xlsx",
    ]
    assert told.first().path == run.get_absolute_url()


def test_a_named_mapping_is_saved_and_offered_for_the_next_file(portfolio_manager):
    content = workbook({"Services": [("Code", "Title", "Type"), ("a", "Claims", "internal")]})
    run = services.start_run(user=portfolio_manager, filename="x.xlsx", content=content, source="s")
    assert run.sheets[0]["mapping"] == {"Code": "", "Title": "", "Type": ""}
    choices = [
        {
            "resource": "services",
            "mapping": {"Code": "external_id", "Title": "name", "Type": "kind"},
        }
    ]
    services.map_and_preview(run=run, choices=choices, mode="upsert", save_as="Our CMDB")
    assert ColumnMapping.objects.get(user=portfolio_manager, name="Our CMDB").columns == {
        "Code": "external_id",
        "Title": "name",
        "Type": "kind",
    }
    again = services.start_run(
        user=portfolio_manager, filename="y.xlsx", content=content, source="s"
    )
    assert again.sheets[0]["mapping"] == choices[0]["mapping"]


def test_the_errors_export_neutralises_formulas(client, portfolio_manager):
    text = 'External id,Name,Kind\n=1+2,=HYPERLINK("http://x"),nope\n'
    run = previewed(portfolio_manager, text.encode(), name="=cmd.csv")
    client.force_login(portfolio_manager)
    answer = client.get(reverse("imports:errors", args=[run.pk]))
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["Sheet", "Row", "Column", "Problem"]
    assert rows[1][0] == "'=cmd" and rows[1][1:3] == ["2", "Kind"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_another_users_run_is_theirs_to_commit(client, portfolio_manager):
    run = previewed(portfolio_manager, services_and_items(1, owner="pm"))
    finance = UserFactory(username="fin", role="Finance")
    client.force_login(finance)
    # The history and the run are read by whoever imports; the commit is the uploader's.
    assert client.get(run.get_absolute_url()).status_code == 200
    assert client.post(reverse("imports:commit", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.state == RunState.PREVIEWED
