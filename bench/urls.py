from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from padu.urls import urlpatterns as padu_urlpatterns


@csrf_exempt
def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), *padu_urlpatterns]
