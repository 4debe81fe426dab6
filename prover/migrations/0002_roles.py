"""The three role groups and their model permissions (viewer reads; researcher also launches and imports)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_MODELS = ("dataset", "theorem", "knownproof", "run", "theoremresult", "proofnode", "runmetric")
RESEARCHER_EXTRA = ("add_run", "change_run", "add_dataset", "add_theorem", "add_knownproof")


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = list(Permission.objects.filter(content_type__app_label="prover", codename__in=[f"view_{m}" for m in VIEW_MODELS]))
    extra = list(Permission.objects.filter(content_type__app_label="prover", codename__in=RESEARCHER_EXTRA))
    everything = list(Permission.objects.filter(content_type__app_label="prover"))
    for name, permissions in (("viewer", view), ("researcher", view + extra), ("admin", everything)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=("viewer", "researcher", "admin")).delete()


class Migration(migrations.Migration):
    dependencies = [("prover", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"), ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
