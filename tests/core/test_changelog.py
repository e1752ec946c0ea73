import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.choices import ChangeAction
from core.choices import Channel
from core.context import change_context
from core.models import ObjectChange
from portfolio.models import Service
from tests.factories import UserFactory


@pytest.mark.django_db
def test_changelog_records_create_update_delete_with_values(portfolio_manager):
    with change_context(user=portfolio_manager, channel=Channel.WEB):
        service = Service.objects.create(name="Payments", slug="payments", kind="supporting")
        service.summary = "Card and wallet payments"
        service.save()
        pk = service.pk
        service.delete()

    changes = list(ObjectChange.objects.order_by("id"))
    assert [c.action for c in changes] == [
        ChangeAction.CREATE,
        ChangeAction.UPDATE,
        ChangeAction.DELETE,
    ]
    create, update, delete = changes
    assert create.before is None and create.after["name"] == "Payments"
    assert update.changed_fields == [("summary", "", "Card and wallet payments")]
    assert delete.after is None and delete.before["summary"] == "Card and wallet payments"
    assert {c.object_id for c in changes} == {str(pk)}
    assert {c.user_name for c in changes} == {portfolio_manager.username}
    assert {c.channel for c in changes} == {Channel.WEB}


@pytest.mark.django_db
def test_changelog_skips_a_save_that_changes_nothing():
    service = Service.objects.create(name="Payments", slug="payments", kind="supporting")
    Service.objects.get(pk=service.pk).save()
    assert not ObjectChange.objects.filter(action=ChangeAction.UPDATE).exists()


@pytest.mark.django_db
def test_changelog_records_channel_and_source_of_context():
    with change_context(channel=Channel.SYNC, source="servicenow"):
        Service.objects.create(name="Synced", slug="synced", kind="supporting")
    change = ObjectChange.objects.get()
    assert (change.channel, change.source, change.user_id) == (Channel.SYNC, "servicenow", None)


@pytest.mark.django_db
def test_changelog_ignores_untracked_models():
    Group.objects.create(name="Not tracked")
    assert not ObjectChange.objects.exists()


@pytest.mark.django_db
def test_changelog_web_edit_is_attributed_to_the_user(client, portfolio_manager):
    client.force_login(portfolio_manager)
    response = client.post(
        reverse("portfolio:service_add"),
        {
            "name": "Claims",
            "kind": "customer_facing",
            "lifecycle": "pipeline",
            "criticality": "high",
        },
    )
    assert response.status_code == 302
    change = ObjectChange.objects.get(action=ChangeAction.CREATE)
    assert (change.channel, change.user_name) == (Channel.WEB, portfolio_manager.username)


@pytest.mark.django_db
def test_history_view_shows_changes_to_readers_only(client, viewer):
    with change_context(channel=Channel.COMMAND):
        service = Service.objects.create(name="Payments", slug="payments", kind="supporting")
    url = reverse("object_history", args=["portfolio", "service", service.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(viewer)
    response = client.get(url)
    assert response.status_code == 200
    assert b"Created" in response.content and b"Payments" in response.content
    assert client.get(reverse("object_history", args=["auth", "group", 1])).status_code == 404


@pytest.mark.django_db
def test_delegate_changes_are_recorded_and_shown_by_username(client, portfolio_manager, viewer):
    from portfolio import services

    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    with change_context(user=portfolio_manager, channel=Channel.WEB):
        service = services.save_service(
            service=Service(name="Payments", kind="supporting"), delegates=[alice]
        )
        services.save_service(service=service, delegates=[bob, alice])
        services.save_service(service=service, delegates=[alice, bob])  # the same set

    updates = ObjectChange.objects.filter(action=ChangeAction.UPDATE).order_by("id")
    assert [c.changed_fields for c in updates] == [
        [("delegates", [], ["alice"])],
        [("delegates", ["alice"], ["alice", "bob"])],
    ]
    client.force_login(viewer)
    page = client.get(reverse("object_history", args=["portfolio", "service", service.pk]))
    assert "<ins>alice, bob</ins>" in page.content.decode()
