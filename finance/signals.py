"""A change to cost data or to any edge schedules a recomputation of the open periods it
affects (finance.services.request_recompute: after commit, bursts coalesced). Saves and
deletes send the model signals; the API's bulk sync, which writes with SQL, sends
core.api.sync.rows_synced with the rows it wrote, and the same rules apply to them."""

from django.db.models.signals import post_delete
from django.db.models.signals import post_save
from django.db.models.signals import pre_save

from core.api.sync import rows_synced
from finance import services
from finance.models import CostItem
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.selectors import EDGE_MODELS
from finance.selectors import RELEVANT_FIELDS
from finance.selectors import node_for


def remember_loaded_values(sender, instance, raw=False, **kwargs):
    """Keep the values loaded from the database: the change log's post_save handler moves
    its snapshot on to the new values before ours runs."""
    instance._finance_before = getattr(instance, "_loaded_snapshot", None)


def _before(instance) -> dict | None:
    return getattr(instance, "_finance_before", None)


def _changed(instance, names, created: bool) -> bool:
    if created:
        return True
    before = _before(instance)
    if before is None:
        return True
    after = instance.changelog_snapshot()
    return any(before.get(name) != after.get(name) for name in names)


def _item_node(values: dict):
    """The node a cost item's values (by attname) record it against."""
    return node_for(
        values.get("service_id"),
        values.get("application_id"),
        values.get("contract_id"),
        values.get("pool_id"),
    )


def cost_item_changed(sender, instance, raw=False, created=False, **kwargs):
    if raw:
        return
    # Only the cost of its target (and of its former one) changes: the run recomputes what
    # they reach. When what it was recorded against before is unknown, the run is a full one.
    if kwargs.get("signal") is post_delete:
        loaded = getattr(instance, "_loaded_snapshot", None)
    else:
        loaded = _before(instance)
    nodes = {_item_node(vars(instance))}
    if loaded is not None:
        nodes.add(_item_node(loaded))
    elif not created:
        nodes = set()
    if any(pk is None for _, pk in nodes):
        nodes = set()
    before = loaded or {}
    services.request_recompute(
        period_id=instance.period_id, months=instance.spread_months, nodes=nodes
    )
    if before.get("period_id") and (
        before.get("period_id") != instance.period_id
        or before.get("spread_months") != instance.spread_months
    ):
        services.request_recompute(
            period_id=before["period_id"], months=before.get("spread_months") or 1, nodes=nodes
        )


def quantity_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # A quantity moves cost along its driver's edges in its own month only.
    services.request_recompute(period_id=instance.period_id)
    before = _before(instance) or {}
    if before.get("period_id") and before["period_id"] != instance.period_id:
        services.request_recompute(period_id=before["period_id"])


def rate_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # Capex of this period is converted at this period's rate in every later month too.
    services.request_recompute(period_id=instance.period_id, months=None)
    before = _before(instance) or {}
    if before.get("period_id") and before["period_id"] != instance.period_id:
        services.request_recompute(period_id=before["period_id"], months=None)


def edge_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    services.request_recompute(all_periods=True)


def portfolio_record_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw or not _changed(instance, RELEVANT_FIELDS[sender], created):
        return
    services.request_recompute(all_periods=True)


def portfolio_record_deleted(sender, instance, **kwargs):
    services.request_recompute(all_periods=True)


def rows_written(sender, changes, **kwargs):
    """The sync engine wrote these rows (before, after; by attname): the rules above, for a
    batch. Every request joins the transaction's one pending recomputation."""
    rows = [row for pair in changes for row in pair if row is not None]
    if sender is CostItem:
        # An item moved to another month or spread changes the months before and after, and
        # one moved to another target the cost of both.
        nodes = {_item_node(row) for row in rows}
        for span in {(row["period_id"], row["spread_months"]) for row in rows}:
            services.request_recompute(period_id=span[0], months=span[1], nodes=nodes)
    elif sender is DriverQuantity:
        for period_id in {row["period_id"] for row in rows}:
            services.request_recompute(period_id=period_id)
    elif sender is ExchangeRate:
        # Capex of a period converts at its rate in every later month too.
        for period_id in {row["period_id"] for row in rows}:
            services.request_recompute(period_id=period_id, months=None)
    elif sender in EDGE_MODELS:
        if changes:
            services.request_recompute(all_periods=True)
    elif sender in RELEVANT_FIELDS:
        names = RELEVANT_FIELDS[sender]
        if any(
            before is None or after is None or any(before[n] != after[n] for n in names)
            for before, after in changes
        ):
            services.request_recompute(all_periods=True)


def connect() -> None:
    uid = "finance-recompute"
    for model in (CostItem, ExchangeRate, DriverQuantity, *RELEVANT_FIELDS):
        name = model._meta.label_lower
        pre_save.connect(remember_loaded_values, sender=model, dispatch_uid=f"{uid}-{name}-pre")
    post_save.connect(cost_item_changed, sender=CostItem, dispatch_uid=f"{uid}-costitem-save")
    post_delete.connect(cost_item_changed, sender=CostItem, dispatch_uid=f"{uid}-costitem-del")
    post_save.connect(quantity_changed, sender=DriverQuantity, dispatch_uid=f"{uid}-qty-save")
    post_delete.connect(quantity_changed, sender=DriverQuantity, dispatch_uid=f"{uid}-qty-del")
    post_save.connect(rate_changed, sender=ExchangeRate, dispatch_uid=f"{uid}-rate-save")
    post_delete.connect(rate_changed, sender=ExchangeRate, dispatch_uid=f"{uid}-rate-del")
    for model in EDGE_MODELS:
        name = model._meta.label_lower
        post_save.connect(edge_changed, sender=model, dispatch_uid=f"{uid}-{name}-save")
        post_delete.connect(edge_changed, sender=model, dispatch_uid=f"{uid}-{name}-del")
    for model in RELEVANT_FIELDS:
        name = model._meta.label_lower
        post_save.connect(portfolio_record_saved, sender=model, dispatch_uid=f"{uid}-{name}-save")
        post_delete.connect(
            portfolio_record_deleted, sender=model, dispatch_uid=f"{uid}-{name}-del"
        )
    rows_synced.connect(rows_written, dispatch_uid=f"{uid}-sync")
