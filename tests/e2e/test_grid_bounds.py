"""In the browser, the result grid refuses a value outside the indicator's bounds, or a fraction
where it counts whole units, before anything is sent, with the server's own message; a cell put
right again is accepted (docs/pages.md "Result entry grid: the indicator's bounds")."""

from decimal import Decimal

import pytest

from indicators import services as indicator_services
from indicators.models import Result
from tests.roles import Q2

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_out_of_bounds_and_fractions_are_refused_in_the_page_then_a_corrected_cell_saves(site, sign_in):
    base, world = site
    indicator, x = world.indicators["p1"], world.orgs["x"]
    indicator_services.indicator_update(indicator=indicator, value_max=Decimal("50"), whole_numbers=True)
    page = sign_in("municipality_x_editor", "ar")
    page.goto(f"{base}/ar/results/enter/?indicator={indicator.pk}&municipality={x.pk}&period={Q2[0].isoformat()}")
    cell = page.locator("input[name=total-value]")
    save = page.locator("button[name=action][value=save]")

    cell.fill("٧٥")  # 75, typed with Arabic-Indic digits
    save.click()
    assert cell.get_attribute("aria-invalid") == "true"
    assert cell.evaluate("input => input.validationMessage") == "أدخل قيمة بين 0 و50."

    cell.fill("12.5")
    save.click()
    assert cell.get_attribute("aria-invalid") == "true"
    assert "عددًا صحيحًا" in cell.evaluate("input => input.validationMessage")
    stored = Result.objects.get(indicator=indicator, municipality=x, period_start=Q2[0], disaggregation_category="")
    assert stored.value == Decimal("3")  # nothing was sent

    cell.fill("٤٢")
    with page.expect_navigation():
        save.click()
    stored.refresh_from_db()
    assert stored.value == Decimal("42")
