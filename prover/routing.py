from django.urls import path

from jobs.consumers import JobFramesConsumer

websocket_urlpatterns = [
    path("ws/runs/<int:object_id>/", JobFramesConsumer.as_asgi(job_kind="run")),
    path("ws/imports/<int:object_id>/", JobFramesConsumer.as_asgi(job_kind="import")),
]
