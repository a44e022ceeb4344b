"""Screenshots of the pages for docs/pages.md, taken from a running demo (`make run`) with Debian's
Chromium (scripts/ensure_chromium.sh) through Playwright: Arabic and English at 1280 px, and
Arabic on a phone (390 px).

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
"""

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
LOGINS = {
    "ministry": "demo-ministry-2026",
    "usaid": "demo-donor-2026",
    "ghadames": "demo-municipality-2026",
    "implementer": "demo-implementer-2026",
}


def first_link(page, pattern: str) -> str:
    """The first link on the page whose address matches: pages are found as a user finds them."""
    for href in page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))"):
        if re.search(pattern, href):
            return href
    raise LookupError(pattern)


def shoot(browser, user, name, find, languages=("ar", "en"), phone=True):
    for language in languages:
        context = browser.new_context(
            locale="ar-LY" if language == "ar" else "en-GB", viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.goto(f"{BASE}/{language}/login/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", LOGINS[user])
        with page.expect_navigation():
            page.click("main button[type=submit]")
        path = find(page, language)
        page.goto(f"{BASE}{path}" if path.startswith("/") else f"{BASE}/{language}/{path}")
        page.screenshot(path=str(OUT / f"{name}-{language}.png"), full_page=True)
        if phone and language == "ar":
            page.set_viewport_size({"width": 390, "height": 844})
            page.screenshot(path=str(OUT / f"{name}-ar-phone.png"), full_page=True)
        context.close()


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        shoot(browser, "ministry", "ministry-dashboard", lambda page, lang: "ministry/")
        shoot(browser, "usaid", "donor-dashboard", lambda page, lang: "donor/")

        def result_grid(page, lang):
            page.goto(f"{BASE}/{lang}/results/enter/")
            page.select_option("#pick-indicator", index=1)
            with page.expect_navigation():
                page.locator("#pick-indicator").evaluate("select => select.form.submit()")
            return page.url.removeprefix(BASE)

        shoot(browser, "ghadames", "result-grid", result_grid)

        def programme(page, lang):
            page.goto(f"{BASE}/{lang}/programmes/")
            return first_link(page, r"/programmes/\d+/$")

        shoot(browser, "usaid", "programme", programme)

        def indicator(page, lang):
            page.goto(f"{BASE}/{lang}/donor/")
            return first_link(page, r"/indicators/\d+/$")

        shoot(browser, "usaid", "indicator", indicator)

        def national_target(page, lang):
            page.goto(f"{BASE}/{lang}/ministry/")
            return first_link(page, r"/national-targets/\d+/$")

        shoot(browser, "ministry", "national-target", national_target)
        shoot(browser, "ministry", "setup-home", lambda page, lang: "setup/", phone=False)
        browser.close()


if __name__ == "__main__":
    main()
