"""Every URL of the service, assembled from the apps (which never route to each other)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from iterations.api.views import IterationViewSet
from jobs.api import ArtifactViewSet
from jobs.throttle import ThrottledAuthenticationForm
from prover.api.views import (
    DatasetViewSet,
    ImportJobViewSet,
    RunViewSet,
    TheoremResultViewSet,
    TheoremViewSet,
)
from training.api.views import TrainingRunViewSet

from . import views

router = DefaultRouter()
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("imports", ImportJobViewSet, basename="import")
router.register("theorems", TheoremViewSet, basename="theorem")
router.register("runs", RunViewSet, basename="run")
router.register("results", TheoremResultViewSet, basename="result")
router.register("training-runs", TrainingRunViewSet, basename="training-run")
router.register("artifacts", ArtifactViewSet, basename="artifact")
router.register("iterations", IterationViewSet, basename="iteration")

api = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("prover.urls")),
    path("", include("training.urls")),
    path("", include("iterations.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include(api)),
    path("admin/", admin.site.urls),
]

handler400 = views.bad_request
