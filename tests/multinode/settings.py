"""Settings of the harness's web processes: the production settings (portico.settings, read
from the environment like any deployment's) but for two things the harness does not test.
Static files are named plainly, as in the rest of the suite (the hashed manifest build is
proven by tests/test_deployment.py), and passwords use the suite's fast hasher, the one the
test's users were made with."""

from portico.settings import *  # noqa: F403
from portico.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
