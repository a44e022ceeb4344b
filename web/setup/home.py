"""The set-up home: where each person finds the frameworks, programmes and people they keep,
and, read-only, those they may only look at. The pages it links decide what each role may do;
this page only leaves out what would answer 404."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from partners.models import Organisation
from projects.access import access_for


@login_required
def setup_home(request):
    access = access_for(request.user)
    administered = Organisation.objects.order_by("name")
    if not access.is_superuser:
        administered = administered.filter(
            pk__in=[pk for pk in access.organisation_ids() if access.can_manage_memberships(pk)]
        )
    context = {
        "access": access,
        "edits_programmes": access.edits_some_programme or access.can_create_programmes(),
        "edits_frameworks": access.can_edit_national_targets(),
        "administered": list(administered.only("id", "name_en", "name_ar", "kind")),
    }
    return render(request, "web/setup/home.html", context)


urlpatterns = [path("", setup_home, name="setup_home")]
