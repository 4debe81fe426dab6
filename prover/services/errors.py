class ServiceError(ValueError):
    """A request the service refuses, with a message that says what and where. `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
