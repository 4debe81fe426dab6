from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from prover import views
from training import views as training_views

urlpatterns = [
    path("", views.home, name="home"),
    path("runs/new/", views.run_new, name="page-run-new"),
    path("runs/table/", views.runs_table, name="page-runs-table"),
    path("runs/<int:run_id>/", views.run_detail, name="page-run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="page-run-cancel"),
    path("theorems/<int:theorem_id>/", views.theorem_detail, name="page-theorem"),
    path("compare/", views.compare, name="page-compare"),
    path("queues/", views.queues_fragment, name="page-queues"),
    path("training/new/", training_views.training_new, name="page-training-new"),
    path("training/<int:training_id>/", training_views.training_detail, name="page-training"),
    path("training/<int:training_id>/cancel/", training_views.training_cancel, name="page-training-cancel"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("prover.api.urls")),
    path("admin/", admin.site.urls),
]
