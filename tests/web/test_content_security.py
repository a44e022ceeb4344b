"""Every page is served with a Content-Security-Policy that allows only this site's scripts and
styles, and no page needs more: no inline script, no style attribute, no event-handler attribute.
(The browser tests check that Chromium reports no violation.)"""

import re

import pytest
from django.conf import settings

from tests.web.test_access_matrix import EXPECTED, ROLES, url

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle=", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


def policy(response) -> dict[str, set[str]]:
    directives = (part.strip().split() for part in response["Content-Security-Policy"].split(";"))
    return {name: set(values) for name, *values in directives}


def assert_clean(response, what):
    html = response.content.decode()
    for pattern in (INLINE_SCRIPT, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE, STYLE_ELEMENT):
        found = pattern.search(html)
        assert found is None, (what, html[max(0, found.start() - 80) : found.end() + 80])


def test_the_policy_allows_this_site_only():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["default-src"] == directives["script-src"] == directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_page_has_the_policy_and_needs_nothing_inline(world, client_for, language):
    seen = 0
    for page, statuses in EXPECTED.items():
        role = next((r for r, status in zip(ROLES, statuses, strict=True) if status == 200), "superuser")
        response = client_for(role).get(f"/{language}{url(world, page)[3:]}")
        assert response.status_code == 200, page
        assert policy(response)["script-src"] == {"'self'"}, page
        assert_clean(response, page)
        seen += 1
    for path in ("/login/", "/admin/login/"):
        response = client_for().get(f"/{language}{path}")
        assert response.status_code == 200 and policy(response)["default-src"] == {"'self'"}
        assert_clean(response, path)
    assert seen == len(EXPECTED)


def test_the_admin_and_the_api_docs_need_nothing_inline(world, client_for):
    superuser = client_for("superuser")
    for path in ("/en/admin/", "/en/admin/indicators/indicator/", "/api/v1/docs/"):
        response = superuser.get(path)
        assert response.status_code == 200, path
        assert "Content-Security-Policy" in response, path
        assert_clean(response, path)
