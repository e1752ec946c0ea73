"""Files a services function imports, or tests rules against, in the browser and in the API.

An app with a file import (ledger, cloud) declares its pages and API actions on these bases:
the services function, the model whose right is asked and the texts; the bases own the
rights check, the form, the 422 with the services' errors beside the file, the all-or-nothing
transaction of several files and the candidate rule read from JSON.

- ``FileFormView``: a page with a form that takes one file (``FileImportView``: importing
  it, then back to the app's overview with a message per imported period);
- ``RuleEditView``: a mapping rule's form that, sent with "Test" and a file, shows what each
  rule would take of the file with this one in its place, and saves nothing;
- ``FileImportApiView`` and ``RuleTestApiView``: the same two actions in the API, taking
  multipart/form-data (``file`` parts) and answering JSON (core.api.errors for bad input);
- ``imported_file_fields``, ``lineage_fields``, ``totals_schema``, ``largest_schema`` and
  ``rule_writes``: what the API resources of imported files, their lines and their rules
  declare alike (core.models.ImportedFile).
"""

import json
from collections.abc import Callable
from typing import Any
from typing import ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core import context
from core.api import writes
from core.api.errors import Invalid
from core.api.resources import Writes
from core.api.resources import registry
from core.api.views import ApiView
from core.choices import Channel
from core.generic import ObjectEditView
from core.generic import partial_or_page
from core.generic import redirect_after_write
from core.permissions import require

# --- The browser -----------------------------------------------------------------------------


def file_errors(form, exc: ValidationError, *, field: str = "test_file") -> None:
    """A services error beside its field; a file's column's or a line's beside the file."""
    if not hasattr(exc, "error_dict"):
        form.add_error(field, exc)
        return
    for name, errors in exc.error_dict.items():
        texts = [text for error in errors for text in error.messages]
        if name in form.fields:
            form.add_error(name, texts)
        else:
            form.add_error(field, [f"{name}: {text}" for text in texts])


class FileFormView(LoginRequiredMixin, View):
    """A form of one ``file`` handed to ``done``: the user needs ``action`` on ``model``; a
    file the services refuse is shown again with their errors beside it (422)."""

    model: type[models.Model]
    action = "add"
    form_class: type
    template_name: str
    section: str

    def get_context(self) -> dict:
        """What the page shows besides the form."""
        return {}

    def render_form(self, form, status: int = 200, **extra: Any) -> HttpResponse:
        template = partial_or_page(self.request, self.template_name, "form")
        context = {"form": form, "section": self.section, **self.get_context(), **extra}
        return render(self.request, template, context, status=status)

    def done(self, form, upload) -> HttpResponse:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        require(request.user, self.action, self.model)
        return self.render_form(self.form_class())

    def post(self, request, *args, **kwargs):
        require(request.user, self.action, self.model)
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        try:
            return self.done(form, form.cleaned_data["file"])
        except ValidationError as exc:
            file_errors(form, exc, field="file")
            return self.render_form(form, status=422)


class FileImportView(FileFormView):
    """POST a file: ``import_function(stream, name, user)`` imports all of it or nothing;
    a message per result (``result_message``), then the app's ``overview_url_name``."""

    import_function: ClassVar[Callable[..., list]]
    overview_url_name: str

    def result_message(self, result) -> str:
        raise NotImplementedError

    def done(self, form, upload) -> HttpResponse:
        results = type(self).import_function(
            stream=upload, name=upload.name or "", user=self.request.user
        )
        for result in results:
            messages.success(self.request, self.result_message(result))
        return redirect_after_write(self.request, reverse(self.overview_url_name))


class RuleEditView(ObjectEditView):
    """A mapping rule's form; sent with "Test" and a file, it shows what each rule would take
    of the file with this one in its place (``try_rules(stream, name, candidate)``, the
    services function), and saves nothing."""

    try_rules: ClassVar[Callable[..., Any]]
    list_url_name: str
    outcome: Any = None

    def get_form(self, obj, data=None):
        files = self.request.FILES if data is not None else None
        return self.form_class(data, files, instance=obj, user=self.request.user)

    def get_success_url(self, obj) -> str:
        return reverse(self.list_url_name)

    def get_form_context(self, obj, form) -> dict:
        return {"outcome": self.outcome}

    def post(self, request, *args, **kwargs):
        if "test" not in request.POST:
            return super().post(request, *args, **kwargs)
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        if form.is_valid():
            upload = form.cleaned_data.get("test_file")
            if upload is None:
                form.add_error("test_file", "Choose the file to test the rule against.")
            else:
                try:
                    self.outcome = type(self).try_rules(
                        stream=upload, name=upload.name or "", candidate=form.save(commit=False)
                    )
                except ValidationError as exc:
                    file_errors(form, exc)
        return self.render_form(obj, form, status=200 if self.outcome is not None else 422)


# --- The API ---------------------------------------------------------------------------------

FILE_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}
RULE_TEST_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "rule": {"type": "string", "description": "The candidate rule, JSON."},
        },
        "required": ["file"],
    }
}


class FileApiView(ApiView):
    """An API action on uploaded ``file`` parts; ``missing_file`` says what to send."""

    parser_classes = [MultiPartParser]
    missing_file: str

    def uploaded_files(self, request) -> list:
        files = request.FILES.getlist("file")
        if not files:
            raise Invalid(errors={"file": [self.missing_file]})
        return files


class FileImportApiView(FileApiView):
    """POST files: each imported by ``import_function(stream, name, user)``, all of them or
    none, under the channel ``api``; the user needs the right to add ``model``."""

    model: type[models.Model]
    import_function: ClassVar[Callable[..., list]]

    def post(self, request):
        writes.require(request.user, "add", self.model)
        results = []
        # All the files or none: a refused file undoes the ones before it.
        with transaction.atomic(), context.change_context(user=request.user, channel=Channel.API):
            for upload in self.uploaded_files(request):
                results += type(self).import_function(
                    stream=upload, name=upload.name or "", user=request.user
                )
        return Response({"results": [result.as_json() for result in results]})


class RuleTestApiView(FileApiView):
    """POST a file and, optionally, a candidate rule (``rule``: JSON as the rules' resource
    takes it; ``id`` in it tests an edit of that rule): what ``try_rules(stream, name,
    candidate)`` makes of the file. Saves nothing.

    The user needs ``right`` on ``model`` to test the stored rules, and to test a candidate
    what its form asks: the right to add rules, and to change the one it edits."""

    model: type[models.Model]
    resource: str  # the rules' API resource, which reads the candidate
    noun: str  # "ledger rule"
    right = "view"
    try_rules: ClassVar[Callable[..., Any]]

    def candidate(self, request, text: str) -> models.Model:
        writes.require(request.user, "add", self.model)
        try:
            body = json.loads(text)
        except ValueError:
            raise Invalid(errors={"rule": ["Give the rule as a JSON object."]}) from None
        if not isinstance(body, dict):
            raise Invalid(errors={"rule": ["Give the rule as a JSON object."]})
        candidate = self.model()
        rule_id = body.pop("id", None)
        if rule_id is not None:
            stored = (
                self.model._default_manager.filter(pk=rule_id).first()
                if isinstance(rule_id, int)
                else None
            )
            if stored is None:
                raise Invalid(errors={"rule": [f"There is no {self.noun} {rule_id!r}."]})
            writes.require(request.user, "change", stored)
            candidate = stored
        writes.apply_body(
            registry[self.resource],
            user=request.user,
            data=body,
            instance=candidate,
            partial=rule_id is not None,
        )
        return candidate

    def post(self, request):
        writes.require(request.user, self.right, self.model)
        (upload,) = self.uploaded_files(request)[:1]
        text = request.data.get("rule")
        candidate = self.candidate(request, text) if text else None
        outcome = type(self).try_rules(stream=upload, name=upload.name or "", candidate=candidate)
        return Response(outcome.as_json())


# --- The API's resources -----------------------------------------------------------------


def imported_file_fields(*, count: str, largest: str) -> tuple[str, ...]:
    """An imported file's fields (core.models.ImportedFile) as its resource shows them, with
    its own count (of unmapped lines) and list (of the largest unmapped)."""
    return ("file_name", "digest", "line_count", count, "totals", largest, "imported_at")


def lineage_fields(flag: str) -> tuple[str, ...]:
    """An imported line's lineage as its resource shows it: the rule that took it, whether
    none did (``flag``) and the cost item it is booked in."""
    return ("rule", flag, "cost_item")


def totals_schema(description: str) -> dict:
    """An imported file's ``totals``: per currency, named exact decimal strings."""
    return {
        "type": "object",
        "description": description,
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
    }


def largest_schema(description: str, properties: dict[str, dict]) -> dict:
    """An imported file's largest unmapped lines, largest first."""
    return {
        "type": "array",
        "description": description,
        "items": {"type": "object", "properties": properties},
    }


def rule_writes(save_rule: Callable[..., Any], remove_rule: Callable[..., Any]) -> Writes:
    """A mapping rule's writes: its services' ``save_rule(rule=)`` and ``remove_rule(rule=)``."""
    return Writes(
        save=lambda rule, user: save_rule(rule=rule),
        remove=lambda rule: remove_rule(rule=rule),
    )
