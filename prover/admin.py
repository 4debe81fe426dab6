"""The admin manages datasets: browse theorems, and upload a data file through the same import service as the API."""

from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .forms import DatasetImportForm
from .models import Dataset, ImportJob, KnownProof, ProofNode, Run, Theorem, TheoremResult
from .services import ServiceError, import_upload, queue_import, runs_in_background


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "theorem_count", "lean_version", "format", "licence", "created_at")
    search_fields = ("name", "source", "notes")
    change_list_template = "admin/prover/dataset/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_theorem_count=Count("theorems"))

    @admin.display(ordering="_theorem_count", description="theorems")
    def theorem_count(self, obj):
        return obj._theorem_count

    def get_urls(self):
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name="prover_dataset_import")]
        return extra + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            messages.error(request, "You may not add datasets.")
            return redirect("admin:prover_dataset_changelist")
        form = DatasetImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data.pop("file")
            try:
                if runs_in_background(upload):
                    job = queue_import(user=request.user, upload=upload, **form.cleaned_data)
                    messages.success(request, f"{upload.name} is large: it is being imported in the background "
                                              "(this page follows its progress)")
                    return redirect(reverse("admin:prover_importjob_change", args=[job.pk]))
                summary = import_upload(user=request.user, upload=upload, **form.cleaned_data)
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, summary.describe())
                return redirect(reverse("admin:prover_dataset_change", args=[summary.dataset.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import a dataset",
        }
        return TemplateResponse(request, "admin/prover/dataset/import.html", context)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Background imports, read only: the change page reloads itself until the import has ended."""

    list_display = ("id", "name", "status", "phase", "done", "total", "file_name", "created_at")
    list_filter = ("status",)
    change_form_template = "admin/prover/importjob/change_form.html"
    readonly_fields = ("name", "status", "phase", "done", "total", "file_name", "file_format", "size_bytes",
                       "dataset", "error", "summary", "owner", "created_at", "started_at", "finished_at")
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # made by uploads on the dataset import page

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Theorem)
class TheoremAdmin(admin.ModelAdmin):
    list_display = ("name", "dataset", "split", "flagged")
    list_filter = ("dataset", "split", "flagged")
    search_fields = ("name", "statement")
    list_select_related = ("dataset",)


@admin.register(KnownProof)
class KnownProofAdmin(admin.ModelAdmin):
    list_display = ("theorem", "source", "lean_version")
    search_fields = ("theorem__name",)
    list_select_related = ("theorem",)
    raw_id_fields = ("theorem",)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "status", "dataset", "theorems_proved", "theorems_total", "created_at")
    list_filter = ("status",)
    list_select_related = ("dataset",)


@admin.register(TheoremResult)
class TheoremResultAdmin(admin.ModelAdmin):
    list_display = ("run", "theorem", "status", "failure_reason", "nodes_expanded")
    list_filter = ("status",)
    raw_id_fields = ("run", "theorem")


@admin.register(ProofNode)
class ProofNodeAdmin(admin.ModelAdmin):
    list_display = ("run", "theorem", "node_id", "depth", "status", "tactic")
    raw_id_fields = ("run", "theorem")
