from django.contrib import admin

from .models import Artifact


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "path", "producer_kind", "producer_id", "parent", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("parent",)
