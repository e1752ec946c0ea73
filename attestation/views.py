"""Pages of attestation and data quality: the record's panel (its score, each criterion with
what to do about it, its attestation and the change that broke it, the owner's Confirm), the
confirmation itself, and the steward's page of scores by owner, overdue attestations and the
worst records, exportable."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_tables2 import RequestConfig

from attestation import quality
from attestation import selectors
from attestation import services
from attestation.choices import AttestationStatus
from attestation.models import QualitySnapshot
from attestation.tables import ScoreTable
from attestation.tables import UnitScoreTable
from core.exports import export_table
from core.generic import ObjectActionView
from core.generic import PageView
from core.permissions import is_owner
from core.permissions import require
from people.models import OrganisationUnit
from portfolio.models import Service

# The steward's list of the worst records is this long.
WORST = 25


def service_panel_context(request, service) -> dict:
    """The service's score, each criterion, its attestation and whether the user may
    confirm it (three queries)."""
    return record_quality(request, service)


def record_quality(request, record) -> dict:
    today = timezone.localdate()
    score, checks = quality.checks_of(record, today)
    standing = selectors.standing_of(record, today)
    meta = record._meta
    return {
        "score": score,
        "checks": checks,
        "standing": standing,
        "may_confirm": is_owner(request.user, record),
        "confirm_url": reverse("attestation:confirm", args=[meta.model_name, record.pk]),
        "history_url": reverse("object_history", args=[meta.app_label, meta.model_name, record.pk]),
    }


class ConfirmView(ObjectActionView):
    """The owner (or a delegate) confirms a record of an attested kind as correct."""

    perform_function = services.attest

    def dispatch(self, request, *args, **kwargs):
        self.model = selectors.ATTESTED_KINDS.get(kwargs["kind"])
        if self.model is None:
            raise Http404("Records of this kind are not attested")
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        obj = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if obj is None:
            raise Http404(f"No such {self.model._meta.verbose_name}")
        require(self.request.user, "view", obj)
        return obj

    def done(self, obj, result):
        messages.success(self.request, f"Confirmed {obj} as correct.")
        return super().done(obj, result)


class StewardView(PageView):
    """For portfolio managers: scores by kind, owner and unit, the trend, overdue and broken
    attestations, the worst records; ``?export=csv`` or ``xlsx`` gives every record's score,
    with ``&of=units`` each unit's."""

    model = Service
    template_name = "attestation/steward.html"

    def get(self, request, *args, **kwargs):
        require(request.user, "change", Service, "Only portfolio managers see the steward view.")
        export = request.GET.get("export")
        if export in ("csv", "xlsx"):
            portfolio = quality.portfolio_score(timezone.localdate())
            if request.GET.get("of") == "units":
                table = UnitScoreTable(self.unit_rows(quality.unit_scores(portfolio.rows)))
                name = "data-quality-by-unit"
            else:
                table = ScoreTable(self.rows(portfolio.rows))
                name = "data-quality"
            RequestConfig(request, paginate=False).configure(table)
            return export_table(table, export, name)
        return super().get(request, *args, **kwargs)

    @staticmethod
    def unit_rows(units: list[quality.UnitScore]) -> list[dict]:
        return [
            {
                "unit": entry.path,
                "url": entry.unit.get_absolute_url(),
                "records": entry.records,
                "own_records": entry.own_records,
                "score": entry.score,
            }
            for entry in units
        ]

    @staticmethod
    def rows(scored: list[quality.Scored]) -> list[dict]:
        owners = {
            user.pk: user
            for user in get_user_model().objects.filter(
                pk__in={row.owner_id for row in scored if row.owner_id}
            )
        }
        units = OrganisationUnit.objects.in_bulk({row.unit_id for row in scored if row.unit_id})
        return [
            {
                "kind": selectors.ATTESTED_KINDS[row.kind]._meta.verbose_name,
                "name": row.name,
                "url": row.url,
                "owner": owners[row.owner_id].get_full_name() or owners[row.owner_id].username
                if row.owner_id
                else "",
                "unit": units[row.unit_id].name if row.unit_id else "",
                "score": row.score,
                "attestation": AttestationStatus(row.status).label,
                "to_do": "; ".join(row.failed),
            }
            for row in scored
        ]

    def get_context(self) -> dict:
        today = timezone.localdate()
        portfolio = quality.portfolio_score(today)
        rows = self.rows(portfolio.rows)
        by_owner: dict[str, list[int]] = {}
        for row in rows:
            by_owner.setdefault(row["owner"] or "(no owner)", []).append(row["score"])
        owners = sorted(
            ((name, len(values), quality.mean(values)) for name, values in by_owner.items()),
            key=lambda entry: (entry[2], entry[0]),
        )
        overdue = [
            row
            for row in rows
            if row["attestation"]
            in (AttestationStatus.DUE.label, AttestationStatus.CHECK_NEEDED.label)
        ]
        worst = sorted(rows, key=lambda row: (row["score"], row["name"]))[:WORST]
        kinds = [
            (selectors.ATTESTED_KINDS[kind]._meta.verbose_name_plural, part)
            for kind, part in portfolio.by_kind.items()
        ]
        return {
            "portfolio": portfolio,
            "kinds": kinds,
            "owners": owners,
            "units": self.unit_rows(quality.unit_scores(portfolio.rows)),
            "overdue": overdue,
            "worst": worst,
            "snapshots": list(QualitySnapshot.objects.order_by("-taken_on")[:30])[::-1],
        }
