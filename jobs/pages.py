"""What every dashboard page of every app shares: the role check and the service-error message."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .roles import can_launch, can_view


def viewer_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not can_view(request.user):
            raise PermissionDenied("your account has no role yet: ask an admin for viewer access")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def require_launch(request, what: str) -> None:
    if not can_launch(request.user):
        raise PermissionDenied(f"{what} needs the researcher role")
