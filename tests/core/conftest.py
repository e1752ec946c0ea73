# The real identity servers of the sign-in tests (tests/core/identity_servers.py).
from tests.core.identity_servers import directory  # noqa: F401
from tests.core.identity_servers import identity_provider  # noqa: F401
from tests.core.identity_servers import ldap_server  # noqa: F401
from tests.core.identity_servers import openid_provider  # noqa: F401
