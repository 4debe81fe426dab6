from django.urls import path

from . import views

urlpatterns = [
    path("training/new/", views.training_new, name="page-training-new"),
    path("training/<int:training_id>/", views.training_detail, name="page-training"),
    path("training/<int:training_id>/cancel/", views.training_cancel, name="page-training-cancel"),
]
