"""The set-up home: where each person finds the frameworks, programmes and people they keep,
and, read-only, those they may only look at. The pages it links decide what each role may do;
this page only leaves out what would answer 404."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from partners.models import Membership, Organisation
from projects.access import access_for


@login_required
def setup_home(request):
    access = access_for(request.user)
    manages_everyone = access.manages_every_organisations_people()
    administered = []
    if not manages_everyone:  # the others find their own organisations' people here
        administered = list(
            Organisation.objects.filter(pk__in=access.organisation_ids(role=Membership.Role.ADMIN))
            .only("id", "name_en", "name_ar", "kind")
            .order_by("name")
        )
    context = {
        "access": access,
        "manages_everyone": manages_everyone,
        "edits_programmes": access.edits_some_programme or access.can_create_programmes(),
        "edits_frameworks": access.can_edit_national_targets(),
        "administered": administered,
    }
    return render(request, "web/setup/home.html", context)


urlpatterns = [path("", setup_home, name="setup_home")]
