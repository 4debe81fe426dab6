"""The three roles of the service, as Django groups.

viewer: reads everything; researcher: also launches and cancels jobs, imports datasets; admin: also manages
users and datasets in the admin (Django's is_staff / is_superuser).
"""

VIEWER = "viewer"
RESEARCHER = "researcher"
ADMIN = "admin"
ROLES = (VIEWER, RESEARCHER, ADMIN)


def role_of(user) -> str | None:
    """The strongest role a user holds, or None for anonymous users and users with no role."""
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in (ADMIN, RESEARCHER, VIEWER):
        if role in names:
            return role
    return None


def can_launch(user) -> bool:
    return role_of(user) in (RESEARCHER, ADMIN)


def can_view(user) -> bool:
    return role_of(user) is not None
