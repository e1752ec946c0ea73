from django import forms

from core.api.resources import autodiscover
from imports import mapping as mappings
from imports import reading
from imports.choices import RunMode
from imports.models import ImportRun


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="A CSV file (one kind of record) or an XLSX workbook (one sheet per kind of "
        "record, such as “Services” and “Specification items”); the first row names the "
        f"columns. At most {reading.MAX_BYTES // (1024 * 1024)} MB."
    )
    source = forms.CharField(
        max_length=100,
        initial="spreadsheet",
        help_text="The rows are keyed by this source and their external id: importing again "
        "from the same source updates the same records.",
    )
    mode = forms.ChoiceField(choices=RunMode.choices, initial=RunMode.UPSERT)

    def clean_source(self) -> str:
        source = self.cleaned_data["source"].strip()
        if not source or "\x00" in source:
            raise forms.ValidationError("Name the source of these records.")
        return source

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > reading.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {reading.MAX_BYTES // (1024 * 1024)} MB."
            )
        return upload


class MappingForm(forms.Form):
    """Per sheet, what it holds and which field each column fills: ``sheet<i>-resource`` and
    ``sheet<i>-col<j>``, the column choices being those of the sheet's chosen resource."""

    mode = forms.ChoiceField(choices=RunMode.choices)
    allow_mass_retire = forms.BooleanField(
        required=False,
        label="Allow retiring more than a fifth of this source's records",
        help_text="A full import that would retire more is refused, in case the file is cut short.",
    )
    save_as = forms.CharField(
        max_length=100,
        required=False,
        label="Save this mapping as",
        help_text="Named mappings are offered again for files with the same columns.",
    )

    def __init__(self, run: ImportRun, *args, **kwargs):
        kwargs.setdefault("initial", {"mode": run.mode, "allow_mass_retire": run.allow_mass_retire})
        super().__init__(*args, **kwargs)
        self.run = run
        resource_choices = [("", "Leave this sheet out")] + [
            (resource.name, mappings.resource_label(resource)) for resource in mappings.resources()
        ]
        for index, sheet in enumerate(run.sheets):
            name = f"sheet{index}-resource"
            self.fields[name] = forms.ChoiceField(
                choices=resource_choices,
                required=False,
                initial=sheet.get("resource", ""),
                label=f"Sheet “{sheet['sheet']}” holds",
            )
            chosen = (
                self.data.get(name, sheet.get("resource", ""))
                if self.is_bound
                else sheet.get("resource", "")
            )
            resource = autodiscover().get(chosen) if chosen in mappings.IMPORTABLE else None
            target_choices = [("", "— not imported —")] + (
                [(t.name, t.label) for t in mappings.targets(resource)] if resource else []
            )
            for column, header in enumerate(sheet["headers"]):
                self.fields[f"sheet{index}-col{column}"] = forms.ChoiceField(
                    choices=target_choices,
                    required=False,
                    initial=sheet.get("mapping", {}).get(header, ""),
                    label=header,
                )

    def sheets(self) -> list[dict]:
        """What the page shows per sheet: its resource field and, per column, its examples
        and its field."""
        shown = []
        for index, sheet in enumerate(self.run.sheets):
            examples = sheet.get("examples", [])
            shown.append(
                {
                    "name": sheet["sheet"],
                    "resource": self[f"sheet{index}-resource"],
                    "columns": [
                        (
                            header,
                            [row[column] for row in examples if column < len(row)],
                            self[f"sheet{index}-col{column}"],
                        )
                        for column, header in enumerate(sheet["headers"])
                    ],
                }
            )
        return shown

    def choices(self) -> list[dict]:
        """The mapping as services.map_and_preview takes it."""
        chosen = []
        for index, sheet in enumerate(self.run.sheets):
            chosen.append(
                {
                    "resource": self.cleaned_data.get(f"sheet{index}-resource", ""),
                    "mapping": {
                        header: self.cleaned_data.get(f"sheet{index}-col{column}", "")
                        for column, header in enumerate(sheet["headers"])
                    },
                }
            )
        return chosen
