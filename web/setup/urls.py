"""The set-up pages' addresses, gathered from the module that owns each page."""

from . import alignment, frameworks, indicators, people, programmes, targets

urlpatterns = [
    *frameworks.urlpatterns,
    *programmes.urlpatterns,
    *indicators.urlpatterns,
    *targets.urlpatterns,
    *alignment.urlpatterns,
    *people.urlpatterns,
]
