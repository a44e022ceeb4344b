import pytest
from django.utils import translation
from hypothesis import HealthCheck, settings

# No timings in tests (the machines are shared and noisy): Hypothesis neither fails an example
# that runs past a deadline nor a strategy that is slow to draw under load.
settings.register_profile("twinning", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("twinning")


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English, whatever the previous one activated."""
    translation.activate("en")
    yield
    translation.deactivate()
