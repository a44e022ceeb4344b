"""Browser tests: Debian's chromium (`scripts/ensure_chromium.sh`) driven by Playwright for Python
against pytest-django's live server. No browser is ever downloaded (never `playwright install`).

Rollups are recomputed by the Celery tasks running eagerly in the server thread when a write
commits (`task_always_eager`, restored afterwards), as in the embedded default; the tests with a
real worker live in tests/rollups/test_worker_rollups.py.
"""

import os
from pathlib import Path

import pytest

from tests.roles import build_world
from tests.web.conftest import recompute

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh")
    # Playwright's sync API keeps an event loop running in this thread while it is open; the ORM
    # calls the browser tests make here (building the world, reading results) are ordinary
    # blocking calls. Allowed for the browser tests only, and restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def eager_celery():
    from twinning.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def site(live_server, settings, eager_celery):
    """The roles world on the live server, rollups computed, cookies allowed over plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    world = build_world()
    recompute()
    return live_server.url, world


# Every page reports what the Content-Security-Policy blocked: Chromium's own console lines, and
# (surer) the page's `securitypolicyviolation` events, logged by a script Playwright injects (it is
# not subject to the policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + event.documentURI + ":" + event.lineNumber);
});
"""


@pytest.fixture
def csp_violations():
    """What the policy blocked on any page a test opened; checked after every browser test."""
    found: list[str] = []
    yield found
    assert found == [], "pages broke the Content-Security-Policy:\n" + "\n".join(found)


def watch_for_violations(context, found: list[str]) -> None:
    context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message):
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            found.append(message.text)

    context.on("console", on_console)


@pytest.fixture
def sign_in(browser, site, csp_violations):
    base, _world = site
    contexts = []

    def open_as(username, language="en"):
        context = browser.new_context(locale="ar-LY" if language == "ar" else "en-GB", accept_downloads=True)
        watch_for_violations(context, csp_violations)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{base}/{language}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/login/" not in page.url, page.content()[:2000]
        return page

    yield open_as
    for context in contexts:
        context.close()
