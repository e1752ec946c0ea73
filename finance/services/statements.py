"""Who may see customer statements: whoever may see the customer (core.permissions). The
roles that read finance see every statement; the grant below lets ``restrict`` give anyone
else the statements of the customers they may see."""

from django.db.models import Q

from core import permissions
from core.permissions import restricted
from finance.models import CustomerStatement
from finance.models import StatementLine
from portfolio.models import Customer


def _no_single_record(user, action, before, after) -> bool:
    return False  # a record's view is the role's: core.permissions.can


def _visible_customers(user):
    return restricted(Customer).restrict(user, "view").values("pk")


def _statement_rows(user, action: str) -> Q | None:
    if action != "view":
        return None
    return Q(customer__in=_visible_customers(user))


def _line_rows(user, action: str) -> Q | None:
    if action != "view":
        return None
    return Q(statement__customer__in=_visible_customers(user))


permissions.grant(CustomerStatement, _no_single_record, rows=_statement_rows)
permissions.grant(StatementLine, _no_single_record, rows=_line_rows)
