import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.roles import build_world


@pytest.fixture(autouse=True)
def _api_only_urls(settings):
    settings.ROOT_URLCONF = "tests.api.urls"


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def client_for(world):
    """client_for("donor_a_viewer") → an APIClient signed in as that role (None: anonymous)."""

    def make(name=None):
        client = APIClient()
        if name is not None:
            token, _ = Token.objects.get_or_create(user=world.users[name])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
