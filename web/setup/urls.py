"""The set-up pages' addresses, gathered from the module that owns each page."""

from . import alignment, frameworks, home, indicators, people, programmes, targets

urlpatterns = [
    *home.urlpatterns,
    *frameworks.urlpatterns,
    *programmes.urlpatterns,
    *indicators.urlpatterns,
    *targets.urlpatterns,
    *alignment.urlpatterns,
    *people.urlpatterns,
]
