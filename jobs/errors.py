class ServiceError(ValueError):
    """A request the service refuses, with a message that says what and where.

    `field` names the form field (dotted for nested config, e.g. `search.max_depth`); `errors` holds every
    problem found, field -> messages, so a form and the API can show them all at once.
    """

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or {field or "non_field_errors": [message]}

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]]) -> "ServiceError":
        summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        first = next(iter(errors))
        return cls(summary, field=first, errors=errors)
