"""The demo organisation, loaded once for every test of this package.

One load takes many seconds, so it is made once, in a transaction rolled back when the
package's last test ends. Each test still runs in its own savepoint inside it: what one test
changes (an edit, a second load) the next does not see.
"""

import pytest
from django.db import transaction

from tests.demo import load_demo


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker) -> str:
    """What the first load of the demo printed; the demo is in the database."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo()
        transaction.set_rollback(True)
