"""Report tests call the API: they share the API tests' world, signed-in clients and URLs."""

from tests.api.conftest import _api_only_urls, client_for, world  # noqa: F401
