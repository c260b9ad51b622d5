"""The app's URLs plus the HTTP baseline: a plain Django view returning a constant."""

from django.http import JsonResponse
from django.urls import path

from stockchat.urls import urlpatterns as app_urlpatterns

CONSTANT = {"status": "ok", "value": 42}


def constant(request):
    return JsonResponse(CONSTANT)


urlpatterns = [path("bench/constant", constant), *app_urlpatterns]
