from django import forms

from core.forms import PorticoModelForm
from performance.models import Measurement

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MeasurementForm(PorticoModelForm):
    class Meta:
        model = Measurement
        fields = ["start", "end", "value", "note"]
        widgets = {"start": DATE, "end": DATE}
        labels = {"start": "From", "end": "To", "value": "Figure"}
        help_texts = {"end": "The window's last day: the figure is judged by the target then."}
