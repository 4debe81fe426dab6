from django.urls import path

from training.consumers import TrainingConsumer

from .consumers import HealthConsumer, RunConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
    path("ws/runs/<int:object_id>/", RunConsumer.as_asgi()),
    path("ws/training/<int:object_id>/", TrainingConsumer.as_asgi()),
]
