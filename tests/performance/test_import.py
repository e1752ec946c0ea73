"""CSV import of figures: through the measurements sync, so the same rules and rights; a bad
row refuses the whole file, naming its line and column."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import ObjectChange
from performance.models import Measurement
from portfolio import services as portfolio_services
from tests.performance.helpers import functioning_item
from tests.performance.helpers import new_service

GOOD = """external_id,item,start,end,value,note
fig-1,avail,2026-09-01,2026-09-30,99.8,September
fig-2,avail,2026-10-01,2026-10-31,99.1,October outage
"""


@pytest.fixture
def item(service_owner):
    item = functioning_item(new_service(owner=service_owner))
    item.source, item.external_id = "monitoring", "avail"
    return portfolio_services.save_specification_item(item=item)


def run(tmp_path, text, user) -> str:
    path = tmp_path / "figures.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    call_command(
        "import_measurements", str(path), source="monitoring", user=user.username, stdout=out
    )
    return out.getvalue()


@pytest.mark.django_db
def test_import_measurements_creates_figures_judged_and_logged(tmp_path, item, service_owner):
    assert "2 created" in run(tmp_path, GOOD, service_owner)
    figures = list(Measurement.objects.order_by("end").values_list("external_id", "met", "note"))
    assert figures == [("fig-1", True, "September"), ("fig-2", False, "October outage")]
    assert ObjectChange.objects.filter(content_type__model="measurement").count() == 2
    item.refresh_from_db()
    assert item.measured_met is False
    # A second run of the same file changes nothing.
    assert "2 unchanged" in run(tmp_path, GOOD, service_owner)


@pytest.mark.django_db
def test_import_measurements_refuses_the_file_naming_line_and_column(tmp_path, item, service_owner):
    bad = GOOD + "fig-3,avail,2026-11-30,2026-11-01,99.9,\nfig-4,nothing,2026-11-01,2026-11-30,x,\n"
    with pytest.raises(CommandError) as error:
        run(tmp_path, bad, service_owner)
    message = str(error.value)
    assert "line 4, end: The end cannot be before the start." in message
    assert "line 5, item" in message and "line 5, value" in message
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
def test_import_measurements_needs_the_right_to_change_the_item(tmp_path, item, other_owner):
    with pytest.raises(CommandError) as error:
        run(tmp_path, GOOD, other_owner)
    assert "You may not write 2 of these items" in str(error.value)
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
def test_import_measurements_refuses_a_file_without_the_columns(tmp_path, service_owner):
    with pytest.raises(CommandError, match="The header lacks the columns start, end"):
        run(tmp_path, "external_id,item,value\nx,avail,1\n", service_owner)


@pytest.mark.django_db
def test_import_measurements_refuses_a_line_with_more_values_than_the_header(
    tmp_path, item, service_owner
):
    text = GOOD + "fig-3,avail,2026-11-01,2026-11-30,99.5,November,stray\n"
    with pytest.raises(CommandError, match="Line 4 has more values than the header"):
        run(tmp_path, text, service_owner)
    assert Measurement.objects.count() == 0
