"""Fixtures of the notification tests: the roles world with extra approvers and editors, and a
real SMTP server that Django sends to."""

import pytest

from partners.models import Membership
from tests import factories as f
from tests.mail import SMTPServer, free_port
from tests.roles import build_world


@pytest.fixture
def world(db):
    """The roles world (tests/roles.py), plus people who may or may not hear of X's results:
    approvers of implementer 1 (runs P1), of implementer 2 (runs P2), of X, of Y and of donor A;
    an inactive ministry approver; and an editor of X besides municipality_x_editor."""
    built = build_world()
    extra = {
        "implementer_approver": ("implementer", Membership.Role.APPROVER),
        "implementer_2_approver": ("implementer_2", Membership.Role.APPROVER),
        "municipality_x_approver": ("x", Membership.Role.APPROVER),
        "municipality_y_approver": ("y", Membership.Role.APPROVER),
        "donor_a_approver": ("donor_a", Membership.Role.APPROVER),
        "ministry_admin_inactive": ("ministry", Membership.Role.ADMIN),
        "municipality_x_editor_2": ("x", Membership.Role.EDITOR),
    }
    for name, (org, role) in extra.items():
        user = f.UserFactory(username=name, is_active=name != "ministry_admin_inactive")
        f.MembershipFactory(user=user, organisation=built.orgs[org], role=role)
        built.users[name] = user
    return built


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free port; Django's e-mail goes to it for the test."""
    server = SMTPServer(free_port()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()
