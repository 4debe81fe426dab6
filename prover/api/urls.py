from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from training.api.views import CheckpointViewSet, TrainingRunViewSet

from .views import DatasetViewSet, RunViewSet, TheoremResultViewSet, TheoremViewSet

router = DefaultRouter()
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("theorems", TheoremViewSet, basename="theorem")
router.register("runs", RunViewSet, basename="run")
router.register("results", TheoremResultViewSet, basename="result")
router.register("training-runs", TrainingRunViewSet, basename="training-run")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
