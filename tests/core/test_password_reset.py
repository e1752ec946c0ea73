"""Password reset by e-mail, for local accounts: the link arrives, works once, and sets a
password that signs in; accounts of the identity provider or the directory get no link."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from core import roles
from tests.factories import TEST_PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-long-password-7"


def reset_link(message) -> str:
    (link,) = re.findall(r"https?://testserver(/password-reset/\S+/\S+/)", message.body)
    return link


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    user = UserFactory(username="lena", email="lena@example.org", role=roles.VIEWER)

    response = client.post(reverse("password_reset"), {"email": "LENA@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["lena@example.org"]
    assert message.subject == "Reset your Portico password"
    assert "lena" in message.body
    assert "for 24 hours" in message.body

    form_page = client.get(reset_link(message), follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    signed_in = client.post(
        reverse("login"), {"username": "lena", "password": NEW_PASSWORD}, follow=True
    )
    assert signed_in.wsgi_request.user.get_username() == "lena"

    # The link worked once.
    client.logout()
    again = client.get(reset_link(message), follow=True)
    assert "This link is not valid" in again.content.decode()


def test_password_reset_says_the_same_for_an_unknown_address(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_sends_nothing_to_accounts_of_the_identity_provider(client):
    user = UserFactory(username="olga", email="olga@example.org", role=roles.VIEWER)
    user.set_unusable_password()  # as single sign-on and the directory make them
    user.save()

    client.post(reverse("password_reset"), {"email": "olga@example.org"})

    assert mail.outbox == []


def test_password_reset_refuses_a_weak_password(client):
    UserFactory(username="lena", email="lena@example.org", role=roles.VIEWER)
    client.post(reverse("password_reset"), {"email": "lena@example.org"})
    form_page = client.get(reset_link(mail.outbox[0]), follow=True)

    response = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "lena", "new_password2": "lena"}
    )

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert get_user_model().objects.get(username="lena").check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    ("uidb64", "token"), [("MQ", "x-y"), ("%00", "abc"), ("x" * 300, "y" * 300), ("١٢", "-1")]
)
def test_password_reset_link_that_is_not_one_says_so(client, uidb64, token):
    response = client.get(f"/password-reset/{uidb64}/{token}/")

    assert response.status_code == 200
    assert "This link is not valid" in response.content.decode()


def test_password_reset_is_absent_with_local_passwords_off(client, settings):
    settings.LOGIN_LOCAL_PASSWORDS = False
    UserFactory(username="lena", email="lena@example.org", role=roles.VIEWER)

    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse("password_reset"), {"email": "lena@example.org"}).status_code == 404
    assert mail.outbox == []
