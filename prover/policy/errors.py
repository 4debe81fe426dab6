"""Errors of the policy client. Each says which server, which request and what to do about it."""

from __future__ import annotations


class PolicyError(Exception):
    """Base class: anything that kept the policy from returning completions."""


class PolicyRequestError(PolicyError):
    """The server rejected the request (4xx). Retrying the same request cannot help."""

    def __init__(self, message: str, *, status: int, server_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


class PolicyServerError(PolicyError):
    """The server kept failing (5xx) after every retry."""

    def __init__(self, message: str, *, status: int, server_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.server_message = server_message


class PolicyUnavailableError(PolicyError):
    """The server could not be reached (connection refused or reset) after every retry."""


class PolicyTimeoutError(PolicyError):
    """A request took longer than its deadline. Not retried: the same batch would likely time out again."""


class PolicyProtocolError(PolicyError):
    """The server answered 2xx with something that is not SGLang's /generate reply."""


class CircuitOpenError(PolicyError):
    """Calls are refused without contacting the server because it failed repeatedly just now."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
