from django.urls import path

from . import views

urlpatterns = [
    path("iterations/new/", views.iteration_new, name="page-iteration-new"),
    path("iterations/<int:iteration_id>/", views.iteration_detail, name="page-iteration"),
    path("iterations/<int:iteration_id>/live/", views.steps_fragment, name="page-iteration-live"),
    path("iterations/<int:iteration_id>/steps/<int:position>/", views.step_detail, name="page-iteration-step"),
    path("iterations/<int:iteration_id>/cancel/", views.iteration_cancel, name="page-iteration-cancel"),
    path("iterations/<int:iteration_id>/resume/", views.iteration_resume, name="page-iteration-resume"),
    path("artifacts/<int:artifact_id>/", views.artifact_detail, name="page-artifact"),
]
