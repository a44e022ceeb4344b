"""Token sign-in reads the user and their memberships together."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners.models import Membership
from tests.factories import MembershipFactory, MinistryFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_signs_in_with_the_users_memberships_in_one_query():
    membership = MembershipFactory(organisation=MinistryFactory(), role=Membership.Role.APPROVER)
    token = Token.objects.create(user=membership.user)
    with CaptureQueriesContext(connection) as queries:
        response = client_with(token.key).get("/api/v1/themes/")
    assert response.status_code == 200
    sign_in = [q["sql"] for q in queries.captured_queries if "authtoken_token" in q["sql"]]
    assert len(sign_in) == 1
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "partners_membership"')]


def test_a_wrong_token_or_an_inactive_user_is_refused():
    assert client_with("not-a-token").get("/api/v1/themes/").status_code == 401
    user = UserFactory(is_active=False)
    token = Token.objects.create(user=user)
    response = client_with(token.key).get("/api/v1/themes/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_memberships_read_at_sign_in_decide_what_the_user_sees():
    """A user with no membership sees no programme; a ministry member sees them all."""
    ProgrammeFactory.create_batch(2)
    outsider = Token.objects.create(user=UserFactory())
    assert client_with(outsider.key).get("/api/v1/programmes/").json()["count"] == 0
    member = MembershipFactory(organisation=MinistryFactory())
    insider = Token.objects.create(user=member.user)
    assert client_with(insider.key).get("/api/v1/programmes/").json()["count"] == 2
