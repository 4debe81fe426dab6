"""Login throttling: after BURNQED_LOGIN_MAX_FAILURES wrong passwords for one user name, every login as that user
(the right password included) is refused for BURNQED_LOGIN_LOCKOUT_S seconds, on the login page and the admin's.
Counters live in the shared cache (Redis), so every web process sees the same count."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.dispatch import receiver


def _key(username: str) -> str:
    return f"login-failures:{(username or '').strip().lower()[:150]}"


def locked_out(username: str) -> bool:
    return (cache.get(_key(username)) or 0) >= settings.BURNQED_LOGIN_MAX_FAILURES


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs) -> None:
    key = _key(credentials.get("username", ""))
    if cache.add(key, 1, timeout=settings.BURNQED_LOGIN_LOCKOUT_S):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.BURNQED_LOGIN_LOCKOUT_S)


@receiver(user_logged_in)
def _forget_failures(sender, user, request=None, **kwargs) -> None:
    cache.delete(_key(user.get_username()))


class ThrottledModelBackend(ModelBackend):
    """Django's backend, refusing a locked-out user name before the password is even checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and locked_out(username):
            raise PermissionDenied("too many failed logins")
        return super().authenticate(request, username=username, password=password, **kwargs)


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form, saying why a locked-out login is refused."""

    locked_out = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and locked_out(username):
            self.locked_out = True
            minutes = max(1, round(settings.BURNQED_LOGIN_LOCKOUT_S / 60))
            raise ValidationError(f"Too many failed logins for this user; try again in {minutes} minutes.",
                                  code="locked_out")
        return super().clean()
