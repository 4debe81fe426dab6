from django.urls import path

from jobs.consumers import JobFramesConsumer

websocket_urlpatterns = [path("ws/iterations/<int:object_id>/", JobFramesConsumer.as_asgi(job_kind="iteration"))]
