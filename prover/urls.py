from django.urls import path

from . import views

urlpatterns = [
    path("runs/new/", views.run_new, name="page-run-new"),
    path("runs/table/", views.runs_table, name="page-runs-table"),
    path("runs/<int:run_id>/", views.run_detail, name="page-run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel, name="page-run-cancel"),
    path("theorems/<int:theorem_id>/", views.theorem_detail, name="page-theorem"),
    path("compare/", views.compare, name="page-compare"),
    path("queues/", views.queues_fragment, name="page-queues"),
]
