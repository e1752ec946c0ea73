"""Who may open the import pages: the roles that write (the rows' own rights are asked by
the sync engine, tests/imports/test_runs.py); a run is previewed and committed by the one who
uploaded it."""

from django.core.files.uploadedfile import SimpleUploadedFile

from core import roles
from imports import services
from imports.choices import RunState
from imports.models import ImportRun
from tests.views import Action
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import post
from tests.views import view_tests

CSV = b"External id,Name,Kind\nm-1,Matrix,internal\n"
WRITERS = (roles.PORTFOLIO_MANAGER, roles.SERVICE_OWNER, roles.VALUE_STREAM_OWNER, roles.FINANCE)
GRANTS = {"view": WRITERS, "add": WRITERS, "change": (), "delete": ()}
MAPPING = {"sheet0-resource": "services", "sheet0-col0": "external_id", "sheet0-col1": "name",
           "sheet0-col2": "kind", "mode": "upsert"}  # fmt: skip


def previewed_run(owner):
    """A run of ``owner``'s, previewed without errors."""
    run = services.start_run(user=owner, filename="services.csv", content=CSV, source="matrix")
    choices = [{"resource": s["resource"], "mapping": s["mapping"]} for s in run.sheets]
    services.map_and_preview(run=run, choices=choices, mode="upsert")
    return services.preview(run=run)


def in_state(state):
    def check(run) -> None:
        assert ImportRun.objects.get(pk=run.pk).state == state

    return check


def uploaded(run) -> None:
    assert ImportRun.objects.filter(source="uploaded-here", state=RunState.UPLOADED).exists()


def more_runs(run, owner) -> None:
    for _ in range(20):
        services.start_run(user=owner, filename="more.csv", content=CSV, source="more")


def page(url_name: str, needs: str = "view", **options) -> Action:
    return Action(url_name, needs, success=200, **options)


RUNS = ViewSpec(
    name="import run",
    make=previewed_run,
    owner_role=roles.SERVICE_OWNER,
    owner_may=("change",),
    grants=GRANTS,
    other_roles=(roles.FINANCE, roles.VALUE_STREAM_OWNER),
    label=lambda run: run.filename,
    actions={
        "list": page("imports:run_list", "add", args=lambda run: []),
        "detail": page("imports:run_detail"),
        "file": page("imports:file", shows=lambda run: ""),
        "errors": page("imports:errors", shows=lambda run: ""),
        "template": page(
            "imports:template", "add", args=lambda run: ["services"], shows=lambda run: ""
        ),
        "upload": add(
            "imports:upload",
            data=lambda run: {
                "file": SimpleUploadedFile("services.csv", CSV),
                "source": "uploaded-here",
                "mode": "upsert",
            },
            done=uploaded,
            watch=(ImportRun,),
        ),
        "preview": post(
            "imports:preview",
            data=lambda run: dict(MAPPING),
            done=in_state(RunState.PREVIEWING),
            watch=(ImportRun,),
        ),
        "commit": post("imports:commit", done=in_state(RunState.COMMITTING), watch=(ImportRun,)),
    },
    queries={"list": Queries(bound=12, populate=more_runs, persona="owner")},
)
test_import_views = view_tests(RUNS)
