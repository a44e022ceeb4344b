"""Schemathesis against the live OpenAPI schema: every operation, as a ministry approver and as a
donor viewer. No 5xx; every answer matches the schema (status code, content type, body).

Bounded for CI: a few examples per operation, derandomised, no example database."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from tests.roles import build_world

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = 12


def load_schema():
    """The schema the live server serves (same generator, API-only URLconf), called through WSGI."""
    document = SchemaGenerator(urlconf="tests.api.urls").get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = load_schema()


@pytest.fixture
def world(db, settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # As Django's test client does: requests must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield build_world()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def token(world, role):
    return Token.objects.get_or_create(user=world.users[role])[0].key


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    # Random generation only: schemathesis' exhaustive "coverage" examples (Phase.explicit) would
    # take several minutes over ~80 operations; 12 cases each keep CI well under 3 minutes.
    phases=[Phase.generate],
)


@pytest.mark.slow
@schema.parametrize()
@BOUNDED
def test_api_conforms_to_its_schema_as_ministry_approver(case, world):
    case.call_and_validate(headers={"Authorization": f"Token {token(world, 'ministry_approver')}"}, checks=CHECKS)


@pytest.mark.slow
@schema.parametrize()
@BOUNDED
def test_api_conforms_to_its_schema_as_donor_viewer(case, world):
    case.call_and_validate(headers={"Authorization": f"Token {token(world, 'donor_a_viewer')}"}, checks=CHECKS)
