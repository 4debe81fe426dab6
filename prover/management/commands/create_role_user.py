from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from jobs.roles import ADMIN, ROLES


class Command(BaseCommand):
    help = "Create (or update) a user with a role (viewer, researcher, admin) and print its API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--password", help="default: keep the current one (unusable for new users)")

    def handle(self, *args, username: str, role: str, password: str | None, **options):
        user, created = get_user_model().objects.get_or_create(username=username)
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.is_staff = role == ADMIN
        user.is_superuser = role == ADMIN
        user.save()
        try:
            group = Group.objects.get(name=role)
        except Group.DoesNotExist:
            raise CommandError(f'group "{role}" is missing: run `manage.py migrate` first') from None
        user.groups.set([group])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(f"{'created' if created else 'updated'} {username} ({role}); API token: {token.key}")
