"""The view-matrix specs (tests/views.py) that the apps importing files (core.uploads:
ledger, cloud) share: who may import, test and write rules, the lines' list, the rules'
pages and the query counts of each, declared once and filled in by each app."""

from collections.abc import Callable
from typing import Any

from core import roles
from tests.views import GRANTS
from tests.views import Action
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import listing

# Finance and portfolio managers import files and write the rules; everyone reads.
IMPORT_GRANTS = {
    **GRANTS,
    "add": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "change": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
    "delete": (roles.FINANCE, roles.PORTFOLIO_MANAGER),
}
OTHER_ROLES = (roles.FINANCE, roles.SERVICE_OWNER)
FILTERED = "q="


def upload_spec(**options) -> ViewSpec:
    return ViewSpec(**{"grants": IMPORT_GRANTS, "other_roles": OTHER_ROLES, **options})


def many(make: Callable[[], Any], count: int = 10) -> Callable[[Any, Any], None]:
    """A ``Queries.populate`` that makes ``count`` more records."""

    def populate(record, owner) -> None:
        for _ in range(count):
            make()

    return populate


def imports_spec(
    *,
    name: str,
    make: Callable[[], Any],
    label: Callable[[Any], str],
    actions: dict[str, Action],
    detail_line: Callable[[Any], Any],
    detail_bound: int,
) -> ViewSpec:
    """The imported files: the app's overview and a file's page (with their query counts), and
    ``actions`` (the upload, a test page...)."""
    return upload_spec(
        name=name,
        make=lambda owner: make(),
        label=label,
        actions=actions,
        queries={
            "overview": Queries(bound=12, populate=many(make)),
            "detail": Queries(
                bound=detail_bound,
                populate=lambda record, owner: [detail_line(record) for _ in range(10)],
            ),
        },
    )


def lines_spec(*, name: str, url_name: str, make: Callable[[], Any], label) -> ViewSpec:
    """An imported file's lines: their list, filtered, with its query count."""
    return upload_spec(
        name=name,
        make=lambda owner: make(),
        label=label,
        actions={"list": listing(url_name, query=FILTERED)},
        queries={"list": Queries(bound=12, populate=many(make), rows=11)},
    )


def rules_spec(
    *,
    name: str,
    prefix: str,
    make: Callable[[], Any],
    data: Callable[[Any], dict],
    added: Callable[[Any], None],
    changed: Callable[[Any], None],
    label: Callable[[Any], str] = lambda record: record.name,
    edit_data: Callable[[Any], dict] | None = None,
) -> ViewSpec:
    """Records written on their own pages (``<prefix>_list``, ``_add``, ``_edit``,
    ``_delete``: the mapping rules), with the list's query count; ``edit_data`` is sent to
    the edit page when it differs from what the add page is sent."""
    return upload_spec(
        name=name,
        make=lambda owner: make(),
        label=label,
        actions={
            "list": listing(f"{prefix}_list", query=FILTERED),
            "add": add(f"{prefix}_add", data=data, done=added),
            "edit": edit(f"{prefix}_edit", data=edit_data or data, done=changed),
            "delete": delete(f"{prefix}_delete"),
        },
        queries={"list": Queries(bound=12, populate=many(make), rows=11)},
    )
