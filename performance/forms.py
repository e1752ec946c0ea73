from django import forms

from core.forms import CsvImportForm
from core.forms import PorticoModelForm
from performance.models import Measurement

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MeasurementForm(PorticoModelForm):
    """Shown in place on the service page, beside other forms: ids of its own (a label
    naming another form's ``id_note`` would label the wrong field)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_figure_%s")
        super().__init__(*args, **kwargs)

    class Meta:
        model = Measurement
        fields = ["start", "end", "value", "note"]
        widgets = {"start": DATE, "end": DATE}
        labels = {"start": "From", "end": "To", "value": "Figure"}
        help_texts = {"end": "The window's last day: judged by the target in force then."}


class MeasurementImportForm(CsvImportForm):
    file_help = (
        "A CSV file with the columns external_id, item or outcome (their external ids), "
        "start and end (YYYY-MM-DD), value, and optionally note, item_source, outcome_source."
    )
