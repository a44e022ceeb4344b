from django.shortcuts import render

from projects.models import Programme


def home(request):
    programmes = Programme.objects.prefetch_related("twinnings__municipalities").order_by("code")
    return render(request, "web/home.html", {"programmes": programmes})
