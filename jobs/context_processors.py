from .roles import can_launch, role_of


def roles(request):
    """Expose the user's role to every template, so pages hide the buttons a viewer may not press."""
    user = getattr(request, "user", None)
    return {"user_role": role_of(user), "user_can_launch": can_launch(user)}
