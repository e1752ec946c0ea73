"""Writes of consumption drivers and their quantities, and the CSV import of quantities.

A driver's quantities are written by the browser, the API (single writes and the bulk sync)
and the CSV import; the import turns its rows into a sync batch, so the same rules and rights
apply to every path (core.rules, core.permissions).
"""

import csv
import io
from collections.abc import Sequence

from django.core.exceptions import ValidationError

from core import rules
from core.api.errors import ApiError
from core.api.resources import autodiscover
from core.api.sync import MAX_ITEMS
from core.api.sync import UPSERT
from core.api.sync import sync
from core.rules import Change
from core.rules import values_by_id
from core.services import delete_or_retire
from core.slugs import generate_slugs
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import PoolAllocation
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Service
from portfolio.models import ServiceDependency

generate_slugs(Driver, "name")

CONSUMER_FIELDS = ("service_id", "application_id")


def save_driver(*, driver: Driver) -> Driver:
    return rules.save_checked(driver)


def remove_driver(*, driver: Driver) -> str:
    """Delete a driver nothing follows; retire one that edges or quantities name (its
    quantities are the history behind driven figures)."""
    return delete_or_retire(driver)


def quantity_key(row: dict) -> tuple:
    return (row["driver_id"], row["period_id"], row["service_id"], row["application_id"])


def quantity_facts(changes: Sequence[Change]) -> tuple[dict, dict, set[int]]:
    """The first change of the batch for each (driver, period, consumer), the stored
    quantities of those keys (key → id), and the retired drivers the changes name."""
    first = rules.first_with(changes, lambda c: quantity_key(c.row))
    drivers = {c.row["driver_id"] for c in changes}
    periods = {c.row["period_id"] for c in changes}
    stored = {
        (driver_id, period_id, service_id, application_id): pk
        for pk, driver_id, period_id, service_id, application_id in (
            DriverQuantity._base_manager.filter(driver_id__in=drivers, period_id__in=periods)
            .values_list("pk", "driver_id", "period_id", "service_id", "application_id")
            .order_by()
        )
    }
    retired = {
        pk for pk, row in values_by_id(Driver, drivers, "retired_at").items() if row["retired_at"]
    }
    return first, stored, retired


@rules.rule(DriverQuantity, facts=quantity_facts)
def quantity_rule(change: Change, facts: tuple[dict, dict, set[int]]) -> None:
    """One quantity per driver, period and consumer; no new quantity of a retired driver."""
    first, stored, retired = facts
    row = change.row
    consumer = "service" if row["service_id"] is not None else "application"
    if row["driver_id"] in retired and (change.is_new or change.moved("driver_id")):
        change.error("driver", "This driver is retired: it takes no new quantities.")
        return
    earlier = first.get(quantity_key(row))
    if earlier is not None and earlier is not change:
        change.error(consumer, f"Item {earlier.index} is the same driver, period and {consumer}.")
        return
    pk = stored.get(quantity_key(row))
    if pk is not None and pk != row.get("id"):
        change.error(
            consumer, f"This {consumer} already has a quantity of this driver in this period."
        )


def save_quantity(*, quantity: DriverQuantity) -> DriverQuantity:
    return rules.save_checked(quantity, validate_unique=False)


def remove_quantity(*, quantity: DriverQuantity) -> None:
    quantity.delete()


def driver_in_use(driver: Driver) -> bool:
    """Whether an edge follows the driver (then its quantities move cost)."""
    return any(
        model.objects.filter(driver=driver).exists()
        for model in (PoolAllocation, ApplicationSupport, ServiceDependency)
    )


# --- CSV import --------------------------------------------------------------------------------

CSV_COLUMNS = ("driver", "period", "service", "application", "quantity", "external_id")
CSV_REQUIRED = ("driver", "period", "quantity", "external_id")
# The file is one sync batch (all lines or none), so it holds what one batch may.
MAX_CSV_ROWS = MAX_ITEMS


def quantity_items(text: str) -> list[dict]:
    """The sync items of a CSV of quantities (CSV_COLUMNS; driver, service and application by
    slug, the period as YYYY-MM). Refuses, naming the line and the column, a missing column, a
    missing value or a slug that names nothing; the values themselves are checked by the sync
    as any API item is."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in CSV_REQUIRED if name not in header]
    if missing:
        raise ValidationError({"file": f"The header lacks the column(s): {', '.join(missing)}."})
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise ValidationError({"file": f"Unknown column(s): {', '.join(unknown)}."})
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            raise ValidationError({"file": f"Line {line} has more values than the header."})
        rows.append((line, row))
        if len(rows) > MAX_CSV_ROWS:
            raise ValidationError({"file": f"At most {MAX_CSV_ROWS} lines in one file."})
    slugs = {
        "driver": {row["driver"] for _, row in rows},
        "service": {row.get("service", "") for _, row in rows} - {""},
        "application": {row.get("application", "") for _, row in rows} - {""},
    }
    ids = {
        "driver": dict(Driver.objects.filter(slug__in=slugs["driver"]).values_list("slug", "pk")),
        "service": dict(
            Service.objects.filter(slug__in=slugs["service"]).values_list("slug", "pk")
        ),
        "application": dict(
            Application.objects.filter(slug__in=slugs["application"]).values_list("slug", "pk")
        ),
    }
    items = []
    errors = []
    for line, row in rows:
        blank = [name for name in CSV_REQUIRED if not row.get(name)]
        if blank:
            errors.append(f"Line {line}: no {', '.join(blank)}.")
            continue
        item: dict = {
            "external_id": row["external_id"],
            "period": row["period"],
            "quantity": row["quantity"],
        }
        for name in ("driver", "service", "application"):
            slug = row.get(name, "")
            if not slug:
                item[name] = None
            elif slug in ids[name]:
                item[name] = ids[name][slug]
            else:
                errors.append(f"Line {line}: no {name} has the slug {slug!r}.")
        items.append(item)
    if errors:
        raise ValidationError({"file": errors[:20]})
    return items


def import_quantities(*, text: str, source: str, user) -> dict:
    """Import a CSV of driver quantities as one bulk sync batch of ``driver-quantities``
    keyed by ``source`` and each line's ``external_id`` (re-importing a file changes
    nothing): all lines are written or none."""
    items = quantity_items(text)
    resource = autodiscover()["driver-quantities"]
    return sync(resource, user=user, source=source, mode=UPSERT, items=items)


def import_summary(result: dict) -> str:
    """What an import did, in a sentence, from the sync's answer."""
    return "Imported: {created} new, {updated} changed, {unchanged} unchanged.".format(**result)


def sync_refusals(error: ApiError) -> list[str]:
    """A refused import as sentences: each bad item by its file line (item 0 is line 2)."""
    lines = []
    for path, reasons in sorted(error.errors.items()):
        parts = path.split(".")
        if len(parts) >= 3 and parts[0] == "items" and parts[1].isdigit():
            where = f"Line {int(parts[1]) + 2}, {'.'.join(parts[2:])}"
        else:
            where = path
        lines.extend(f"{where}: {reason}" for reason in reasons)
    return lines[:20] or [str(error.detail)]
