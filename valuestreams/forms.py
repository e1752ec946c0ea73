from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from core.forms import PorticoModelForm
from core.money import format_number
from core.permissions import can
from customfields.forms import CustomFieldsFormMixin
from portfolio.choices import Dimension
from portfolio.choices import ServiceLifecycle
from portfolio.forms import application_picker
from portfolio.forms import service_picker
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import SpecificationItem
from valuestreams import services
from valuestreams.choices import ImprovementStatus
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import StageApplication
from valuestreams.models import StageService
from valuestreams.models import ValueStream
from valuestreams.models import VerbList


class ValueStreamForm(CustomFieldsFormMixin, PorticoModelForm):
    person_fields = ("owner",)

    class Meta:
        model = ValueStream
        fields = [
            "name",
            "owner",
            "unit",
            "customer",
            "segment",
            "experience",
            "trigger",
            "result",
            "description",
        ]
        help_texts = {"customer": "The customer of the portfolio it serves, or give a segment."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(
            Q(retired_at__isnull=True) | Q(pk=self.instance.customer_id)
        ).order_by("name")
        if self.instance.pk is None and self.user is not None:
            self.fields["owner"].initial = self.user.pk


class StageForm(PorticoModelForm):
    """A stage with its times entered in a unit of the user's choice; stored in minutes.

    Its services and applications are check boxes of those linked now (untick to unlink), and
    one more of each is chosen by name with suggestions as the user types (core.pickers): the
    form never lists every service or application of the portfolio."""

    process_time = forms.DecimalField(
        max_digits=14, decimal_places=4, help_text="Hands-on time of the stage."
    )
    lead_time = forms.DecimalField(
        max_digits=14, decimal_places=4, help_text="Elapsed time, including waiting."
    )
    add_service = service_picker(required=False, label="Add a service that underpins it")
    add_application = application_picker(
        required=False, label="Add an application that supports it"
    )

    class Meta:
        model = Stage
        fields = [
            "name",
            "responsible_party",
            "process_time",
            "process_time_unit",
            "lead_time",
            "lead_time_unit",
            "complete_accurate",
            "value_class",
            "moment_of_truth",
            "services",
            "add_service",
            "applications",
            "add_application",
        ]
        labels = {"process_time_unit": "Process time unit", "lead_time_unit": "Lead time unit"}
        widgets = {
            "services": forms.CheckboxSelectMultiple,
            "applications": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Order the fields as declared in Meta (some are declared on the form).
        self.order_fields(self._meta.fields)
        stage = self.instance
        if stage.pk:
            # In the unit entered, as people write it: 10, not 1E+1 (Decimal.normalize's).
            self.fields["process_time"].initial = Decimal(
                format_number(stage.process_time, grouping=False)
            )
            self.fields["lead_time"].initial = Decimal(
                format_number(stage.lead_time, grouping=False)
            )
            self.fields["services"].queryset = stage.services.order_by("name")
            self.fields["applications"].queryset = stage.applications.order_by("name")
            self.add_weight_fields(stage)
        else:
            del self.fields["services"], self.fields["applications"]
        for name in ("process_time", "lead_time", "complete_accurate"):
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})

    def add_weight_fields(self, stage: Stage) -> None:
        """One weight per service linked now: the link's share of the service's kept cost
        among the stages of current-state streams that rely on it."""
        self.weight_fields: dict[int, str] = {}
        links = stage.service_links.select_related("service").order_by("service__name")
        for link in links:
            name = f"weight_{link.service_id}"
            self.fields[name] = forms.DecimalField(
                max_digits=12,
                decimal_places=4,
                required=False,
                initial=link.weight,
                label=f"Weight of {link.service.name}",
                help_text=(
                    "This stage's share of the service's kept cost against the other stages "
                    "that rely on it (0: none of it)."
                ),
            )
            self.fields[name].widget.attrs.update({"step": "any", "inputmode": "decimal"})
            self.weight_fields[link.service_id] = name

    @property
    def weights(self) -> dict[int, Decimal]:
        """The weights entered, by service id (services being unlinked are left out)."""
        names = getattr(self, "weight_fields", {})
        return {
            service_id: self.cleaned_data[name]
            for service_id, name in names.items()
            if self.cleaned_data.get(name) is not None
        }

    def clean_complete_accurate(self):
        value = self.cleaned_data["complete_accurate"]
        if value is not None and not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("%C&A is a percentage from 0 to 100.")
        return value

    def _clean_time(self, name: str, label: str):
        value = self.cleaned_data[name]
        if value is not None and value < 0:
            raise ValidationError(f"{label} cannot be negative.")
        return value

    def clean_process_time(self):
        return self._clean_time("process_time", "Process time")

    def clean_lead_time(self):
        return self._clean_time("lead_time", "Lead time")

    def clean(self):
        cleaned = super().clean()
        for many, one, model in (
            ("services", "add_service", StageService),
            ("applications", "add_application", StageApplication),
        ):
            chosen = list(cleaned.get(many) or [])
            added = cleaned.get(one)
            if added is not None and added not in chosen:
                problem = services.link_target_error(model, added)
                if problem:
                    self.add_error(one, problem)
                else:
                    chosen.append(added)
            cleaned[many] = chosen
        for name in getattr(self, "weight_fields", {}).values():
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, services.NEGATIVE_WEIGHT)
        for name in ("process_time", "lead_time"):
            value, unit = cleaned.get(name), cleaned.get(f"{name}_unit")
            if value is not None and unit:
                setattr(
                    self.instance,
                    f"{name}_minutes",
                    services.normalise_duration(value=value, unit=unit),
                )
        return cleaned


class ProcessForm(PorticoModelForm):
    activities_text = forms.CharField(
        label="Activities",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One activity per line, in order.",
    )
    connected_to = forms.ModelMultipleChoiceField(
        queryset=Process.objects.none(),
        required=False,
        help_text="Processes this one hands work to or receives work from.",
    )

    class Meta:
        model = Process
        fields = [
            "name",
            "value_stream",
            "description",
            "trigger",
            "result",
            "activities_text",
            "stages",
            "connected_to",
        ]
        help_texts = {
            "stages": "The stages of its value stream it carries out; those that are Moments "
            "of Truth decide its layer with its connections.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self._meta.fields)
        process = self.instance
        streams = ValueStream.objects.filter(retired_at__isnull=True)
        if self.user is not None and not can(self.user, "add", Process()):
            streams = ValueStream.objects.restrict(self.user, "change").filter(
                retired_at__isnull=True
            )
            self.fields["value_stream"].required = True
            self.fields["value_stream"].help_text = "A value stream you own."
        self.fields["value_stream"].queryset = streams.order_by("name")
        self.fields["stages"].queryset = (
            Stage.objects.filter(value_stream__in=streams)
            .select_related("value_stream")
            .order_by("value_stream__name", "position")
        )
        self.fields["stages"].label_from_instance = lambda s: (
            f"{s.value_stream.name} · {s.name}"
            + (" (Moment of Truth)" if s.moment_of_truth else "")
        )
        self.fields["stages"].widget.attrs["size"] = 8
        self.fields["connected_to"].queryset = Process.objects.exclude(pk=process.pk).order_by(
            "name"
        )
        if process.pk:
            self.fields["activities_text"].initial = "\n".join(process.activities)
            self.fields["connected_to"].initial = [
                *process.connections_out.values_list("connected_to_id", flat=True),
                *process.connections_in.values_list("process_id", flat=True),
            ]

    def clean_activities_text(self):
        return services.parse_activities(self.cleaned_data["activities_text"])

    def clean(self):
        cleaned = super().clean()
        stream = cleaned.get("value_stream")
        stages = cleaned.get("stages")
        if stages:
            foreign = [s.name for s in stages if stream is None or s.value_stream_id != stream.pk]
            if foreign:
                self.add_error(
                    "stages",
                    "Choose stages of the process's own value stream (not "
                    + ", ".join(foreign)
                    + ").",
                )
        self.instance.activities = cleaned.get("activities_text") or []
        return cleaned


class ImprovementForm(PorticoModelForm):
    """The whole item for deciders; a suggester editing their proposal sees no status."""

    class Meta:
        model = Improvement
        fields = [
            "value_stream",
            "stage",
            "service",
            "item",
            "outcome",
            "title",
            "description",
            "benefit_metric",
            "benefit_from",
            "benefit_to",
            "benefit_unit",
            "effort",
            "status",
            "measured_before",
            "measured_after",
        ]
        help_texts = {
            "benefit_from": "The measure today.",
            "benefit_to": "The measure expected after the improvement.",
            "measured_before": "For done items: the measure before the change (taken from the "
            "quadrant item's figures when it has some on both sides of the completion day).",
            "measured_after": "For done items: the measure after the change (likewise).",
        }

    def __init__(self, *args, may_decide: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_decide:
            for name in ("status", "measured_before", "measured_after"):
                del self.fields[name]
        streams = ValueStream.objects.filter(retired_at__isnull=True)
        if self.user is not None:
            streams = ValueStream.objects.restrict(self.user, "view").filter(
                retired_at__isnull=True
            )
        self.fields["value_stream"].queryset = streams.order_by("name")
        stages = Stage.objects.select_related("value_stream").order_by(
            "value_stream__name", "position"
        )
        if self.instance.value_stream_id:
            stages = stages.filter(value_stream_id=self.instance.value_stream_id)
        self.fields["stage"].queryset = stages
        self.fields["stage"].label_from_instance = lambda s: f"{s.value_stream.name} · {s.name}"
        self.fields["service"].queryset = Service.objects.exclude(
            lifecycle=ServiceLifecycle.RETIRED
        ).order_by("name")
        # The functioning items and the outcomes of services in use: what has figures.
        self.fields["item"].queryset = (
            SpecificationItem.objects.filter(dimension=Dimension.FUNCTIONING)
            .exclude(service__lifecycle=ServiceLifecycle.RETIRED)
            .select_related("service")
            .order_by("service__name", "aspect", "position", "id")
        )
        self.fields["item"].label_from_instance = lambda i: f"{i.service.name} · {i.title}"
        self.fields["outcome"].queryset = (
            Outcome.objects.filter(subscription__retired_at__isnull=True)
            .exclude(subscription__service__lifecycle=ServiceLifecycle.RETIRED)
            .select_related("subscription__customer", "subscription__service")
            .order_by("subscription__customer__name", "subscription__service__name", "id")
        )
        self.fields["outcome"].label_from_instance = lambda o: (
            f"{o.subscription.customer.name} · {o.subscription.service.name} · {o}"
        )


class ImprovementStatusForm(forms.Form):
    """A move on the board. A done item linked to a quadrant item with figures on both sides of
    its completion takes its measures from them; without, the model asks for them beside these
    fields."""

    status = forms.ChoiceField(choices=ImprovementStatus.choices)
    measured_before = forms.DecimalField(max_digits=18, decimal_places=4, required=False)
    measured_after = forms.DecimalField(max_digits=18, decimal_places=4, required=False)


class VerbListForm(PorticoModelForm):
    class Meta:
        model = VerbList
        fields = ["name", "language", "verbs", "verb_last", "in_use"]
        widgets = {"verbs": forms.Textarea(attrs={"rows": 12})}
