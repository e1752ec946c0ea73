"""The roles come from the migrations themselves: the roles data migration creates the groups,
and migrate gives each its permissions.

The test database's setup makes sure the roles exist (a transactional test's flush may
have removed them), so a test that only looks for them could not fail. This one undoes the
roles migration, sees the roles gone, and migrates forward again, all in the test's
transaction.
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from core import roles

ROLES_MIGRATION = ("core", "0002_roles")


def applied() -> set[tuple[str, str]]:
    return set(MigrationRecorder(connection).applied_migrations())


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def declared_permissions(role: str) -> set[str]:
    """What ROLE_PERMISSIONS declares for ``role``, spelled out as permission names."""
    wanted = set()
    for app_label, model_name, actions in roles.ROLE_PERMISSIONS[role]:
        permissions = Permission.objects.filter(content_type__app_label=app_label)
        if model_name != "*":
            permissions = permissions.filter(content_type__model=model_name)
        wanted |= {
            f"{app_label}.{p.codename}"
            for p in permissions
            if p.codename.split("_", 1)[0] in actions
        }
    return wanted


@pytest.mark.django_db
def test_migrate_creates_the_roles_with_their_permissions():
    call_command("migrate", "core", "0001_initial", verbosity=0)
    assert ROLES_MIGRATION not in applied()
    assert not Group.objects.filter(name__in=roles.ROLES).exists()

    call_command("migrate", "core", verbosity=0)

    assert ROLES_MIGRATION in applied()
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    for role in roles.ROLES:
        assert permissions_of(role) == declared_permissions(role), role
    # A few rights spelled out, so the declaration itself is checked too.
    manager = permissions_of(roles.PORTFOLIO_MANAGER)
    assert {"portfolio.delete_service", "valuestreams.change_stage", "core.view_objectchange"} <= (
        manager
    )
    owner = permissions_of(roles.SERVICE_OWNER)
    assert {"portfolio.view_service", "portfolio.add_service"} <= owner
    assert "portfolio.change_service" not in owner
    assert "finance.add_costitem" in permissions_of(roles.FINANCE)
    assert "finance.add_costitem" not in permissions_of(roles.VIEWER)
    assert {p.split(".")[1].split("_", 1)[0] for p in permissions_of(roles.VIEWER)} == {"view"}
