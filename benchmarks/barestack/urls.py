from django.urls import path
from rest_framework import generics
from rest_framework import serializers

from benchmarks.barestack.models import Service


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = "__all__"


class ServiceList(generics.ListAPIView):
    """The first 50 services by last change, as Portico's API list orders them."""

    serializer_class = ServiceSerializer

    def get_queryset(self):
        return Service.objects.order_by("updated_at", "id")[:50]


urlpatterns = [path("api/v1/services/", ServiceList.as_view())]
