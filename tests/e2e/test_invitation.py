"""Inviting a person in headless Chromium, in Arabic: an organisation's administrator invites an
address by e-mail, the invitee opens the link from the e-mail the real SMTP server received,
chooses a password and lands signed in as a member. The pages do not scroll sideways on a phone.
Takes the screenshots of docs/pages.md."""

import os
import re
import shutil
from pathlib import Path

import pytest

from partners.models import Membership
from tests import factories as f
from tests.e2e.conftest import watch_for_violations
from tests.notifications.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NEW_PASSWORD = "a long and unusual passphrase 42"


def shot(page, artifacts, name):
    """Into artifacts/e2e/; with UPDATE_DOCS_SCREENSHOTS=1 also into docs/screenshots/ (the
    pictures of docs/pages.md), so an ordinary run leaves the documentation alone."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" and DOCS.is_dir():
        shutil.copyfile(path, DOCS / path.name)


def test_an_arabic_admin_invites_and_the_invitee_sets_a_password(
    site,
    sign_in,
    browser,
    csp_violations,
    artifacts,
    settings,
    smtp_server,  # noqa: F811
):
    base, world = site
    settings.SITE_URL = base
    ghadames = world.orgs["x"]
    f.MembershipFactory(
        user=f.UserFactory(username="ghadames_admin"), organisation=ghadames, role=Membership.Role.ADMIN
    )

    f.MembershipFactory(
        user=f.UserFactory(username="ministry_editor"), organisation=world.orgs["ministry"], role=Membership.Role.EDITOR
    )
    ministry = sign_in("ministry_editor", "ar")  # keeps every organisation: the whole form
    ministry.goto(f"{base}/ar/setup/organisations/")
    shot(ministry, artifacts, "setup-organisations-ar")
    ministry.goto(f"{base}/ar/setup/organisations/{ghadames.pk}/edit/")
    ministry.fill("#id_pcode", "LY010304")
    with ministry.expect_navigation():
        ministry.click("#organisation-form button[type=submit]")
    assert "LY010304" in ministry.input_value("#id_pcode")
    shot(ministry, artifacts, "setup-organisation-ar")

    admin = sign_in("ghadames_admin", "ar")
    admin.goto(f"{base}/ar/setup/organisations/{ghadames.pk}/people/")
    admin.fill("#id_email", "Fatima.Newcomer@example.org")
    admin.select_option("#id_role", "editor")
    with admin.expect_navigation():
        admin.click("#invite-form button[type=submit]")
    assert "أُرسلت دعوة إلى fatima.newcomer@example.org." in admin.inner_text(".messages")
    assert "fatima.newcomer@example.org" in admin.inner_text("#invitations")
    shot(admin, artifacts, "setup-people-ar")
    admin.set_viewport_size({"width": 390, "height": 844})  # a phone: wide tables scroll in their box
    for address in ("", f"{ghadames.pk}/edit/", f"{ghadames.pk}/people/"):
        admin.goto(f"{base}/ar/setup/organisations/{address}")
        assert admin.evaluate("document.documentElement.scrollWidth") <= 390, address

    (mail,) = smtp_server.wait_for(1)
    assert mail.envelope_to == ["fatima.newcomer@example.org"]
    assert "يدعوك ghadames_admin إلى الانضمام إلى غدامس" in mail.text
    link = re.search(rf"{re.escape(base)}/ar/setup/invitations/[^/\s]+/", mail.text).group(0)

    context = browser.new_context(locale="ar-LY")
    watch_for_violations(context, csp_violations)
    invitee = context.new_page()
    invitee.goto(link)
    assert invitee.get_attribute("html", "dir") == "rtl"
    assert "أنت مدعوّ إلى الانضمام إلى غدامس بصفة مُدخِل البيانات." in invitee.inner_text("main")
    invitee.fill("#id_new_password1", NEW_PASSWORD)
    invitee.fill("#id_new_password2", NEW_PASSWORD)
    shot(invitee, artifacts, "setup-invitation-ar")
    with invitee.expect_navigation():
        invitee.click("#accept-form button[type=submit]")
    assert "أهلاً بك: انضممت إلى غدامس بصفة مُدخِل البيانات." in invitee.inner_text(".messages")
    assert invitee.locator("header .who").count() == 1  # signed in
    membership = Membership.objects.get(user__email="fatima.newcomer@example.org")
    assert (membership.organisation_id, membership.role) == (ghadames.pk, Membership.Role.EDITOR)
    context.close()
