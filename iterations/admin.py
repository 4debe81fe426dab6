from django.contrib import admin

from .models import Iteration, IterationStep


class StepInline(admin.TabularInline):
    model = IterationStep
    extra = 0
    fields = ("position", "name", "status", "job_kind", "job_id", "attempts", "error")
    readonly_fields = fields


@admin.register(Iteration)
class IterationAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "number", "status", "parent", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("parent",)
    inlines = [StepInline]
