"""Set-up pages (web.setup)."""

urlpatterns = []
