"""API permission: any role may read, researchers and admins may write."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import can_launch, can_view


class RolePermission(BasePermission):
    message = "Your role does not allow this: reading needs the viewer role, writing needs researcher or admin."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return can_view(request.user)
        return can_launch(request.user)
