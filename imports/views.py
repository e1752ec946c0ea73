"""Import in the browser: upload a file, map its columns, preview, commit; the run history
and the templates. Preview and commit run as Celery tasks (imports.tasks); the run's page
polls for their progress with htmx."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from core.api.resources import autodiscover
from core.exports import csv_text
from core.generic import ObjectActionView
from core.generic import ObjectMixin
from core.generic import PageView
from core.generic import redirect_after_write
from core.permissions import can
from core.permissions import require
from imports import mapping as mappings
from imports import services
from imports.forms import MappingForm
from imports.forms import UploadForm
from imports.models import ColumnMapping
from imports.models import ImportRun
from imports.reading import FileRefused
from imports.workbooks import template_bytes

ERRORS_PER_PAGE = 50
RUNS_PER_PAGE = 50
RUN_TEMPLATE = "imports/run.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RunListView(PageView):
    """Who imported what and when, the templates, and the way to a new import."""

    template_name = "imports/run_list.html"

    def get(self, request, *args, **kwargs):
        require(request.user, "add", ImportRun)
        return super().get(request, *args, **kwargs)

    def get_context(self) -> dict:
        runs = ImportRun.objects.restrict(self.request.user, "view").select_related("user")
        page = Paginator(runs.defer("content"), RUNS_PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        return {
            "title": "Imports",
            "page_obj": page,
            "resources": [
                (resource.name, mappings.resource_label(resource))
                for resource in mappings.resources()
            ],
            "mappings": ColumnMapping.objects.filter(user=self.request.user),
        }


class UploadView(LoginRequiredMixin, View):
    template_name = "imports/upload.html"

    def get(self, request):
        require(request.user, "add", ImportRun)
        return self.render_form(UploadForm())

    def post(self, request):
        require(request.user, "add", ImportRun)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = services.start_run(
                    user=request.user,
                    filename=upload.name or "upload",
                    content=upload.read(),
                    content_type=upload.content_type or "",
                    source=form.cleaned_data["source"],
                    mode=form.cleaned_data["mode"],
                )
            except FileRefused as refused:
                form.add_error("file", str(refused))
            else:
                return redirect_after_write(request, run.get_absolute_url())
        return self.render_form(form, status=422)

    def render_form(self, form, status=200):
        return render(
            self.request, self.template_name, {"form": form, "title": "New import"}, status=status
        )


class RunDetailView(ObjectMixin, View):
    """The run's page: its mapping form, then the progress of its task, then its preview
    (counts, retirements, errors by row and column) and the Commit button, then its result.
    An htmx request gets the ``status`` partial, which polls while a task works."""

    model = ImportRun

    # The file (up to 25 MB) is not read to draw a page polled every second.
    queryset = ImportRun.objects.select_related("user").defer("content")

    def get(self, request, *args, **kwargs):
        run = self.get_object()
        return self.render_page(run)

    def render_page(self, run: ImportRun, *, form=None, status=200):
        return render_run(self.request, run, form=form, status=status)


def render_run(request, run: ImportRun, *, form=None, status=200):
    """The run's page, or its ``status`` partial for htmx."""
    may_change = can(request.user, "change", run)
    if form is None and may_change:
        form = MappingForm(run)
    preview = run.preview or {}
    errors = Paginator(preview.get("errors", []), ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "run": run,
        "title": f"Import of {run.filename}",
        "form": form,
        "may_change": may_change,
        "preview": preview,
        "errors": errors,
        "result": run.result or {},
    }
    template = (
        f"{RUN_TEMPLATE}#status" if request.htmx and not request.htmx.boosted else RUN_TEMPLATE
    )
    return render(request, template, context, status=status)


class PreviewView(ObjectMixin, View):
    """The mapping posted: saved, and the preview queued; or, with ``refresh``, only the
    kinds of record the sheets hold (their columns guessed again)."""

    http_method_names = ["post"]
    queryset = ImportRun.objects.defer("content")
    action = "change"

    def post(self, request, *args, **kwargs):
        run = self.get_object()
        if "refresh" in request.POST:
            chosen = [request.POST.get(f"sheet{i}-resource", "") for i in range(len(run.sheets))]
            try:
                services.choose_resources(run=run, chosen=chosen)
            except services.RunRefused as refused:
                messages.error(request, str(refused.message))
            return redirect_after_write(request, f"{run.get_absolute_url()}#mapping")
        form = MappingForm(run, request.POST)
        if form.is_valid():
            try:
                services.map_and_preview(
                    run=run,
                    choices=form.choices(),
                    mode=form.cleaned_data["mode"],
                    allow_mass_retire=form.cleaned_data["allow_mass_retire"],
                    save_as=form.cleaned_data["save_as"].strip(),
                )
            except services.RunRefused as refused:
                form.add_error(None, str(refused.message))
                for where, problems in refused.problems.items():
                    for problem in problems:
                        form.add_error(None, f"Sheet “{where}”: {problem}" if where else problem)
            else:
                return redirect_after_write(request, run.get_absolute_url())
        return render_run(request, run, form=form, status=422)


class CommitView(ObjectActionView):
    queryset = ImportRun.objects.defer("content")
    perform_function = services.request_commit


class RunFileView(ObjectMixin, View):
    """The uploaded file, as it was imported (kept for the audit trail)."""

    model = ImportRun

    def get(self, request, *args, **kwargs):
        run = self.get_object()
        response = HttpResponse(bytes(run.content), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{_safe_name(run.filename)}"'
        return response


class RunErrorsView(ObjectMixin, View):
    """The preview's errors as CSV (sheet, row, column, problem), no cell a formula."""

    model = ImportRun

    def get(self, request, *args, **kwargs):
        run = self.get_object()
        errors = (run.preview or {}).get("errors", [])
        rows = [("Sheet", "Row", "Column", "Problem")] + [
            (e["sheet"], e["row"], e["column"], e["message"]) for e in errors
        ]
        response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
        name = _safe_name(run.filename).rsplit(".", 1)[0]
        response["Content-Disposition"] = f'attachment; filename="{name}-errors.csv"'
        return response


class TemplateDownloadView(LoginRequiredMixin, View):
    """An empty workbook for one resource: its headers, an example row, drop-downs."""

    def get(self, request, resource):
        require(request.user, "add", ImportRun)
        found = autodiscover().get(resource) if resource in mappings.IMPORTABLE else None
        if found is None:
            raise Http404("No such kind of record to import")
        response = HttpResponse(template_bytes(found), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{resource}-template.xlsx"'
        return response


def _safe_name(filename: str) -> str:
    return "".join(c if c.isalnum() or c in "._- " else "_" for c in filename)[:100] or "import"
