from tests.api.conftest import api_for  # noqa: F401 (fixture: API clients with tokens)
