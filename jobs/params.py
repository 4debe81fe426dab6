"""Ids read from query strings and form fields: ASCII digits that fit the database's 64-bit keys, or an error naming
the parameter (`?dataset=²` is a digit to str.isdigit, 99999999999999999999999 overflows PostgreSQL's bigint:
both once answered 500)."""

from django.core.exceptions import BadRequest

MAX_ID = 2**63 - 1


def as_id(value: object) -> int | None:
    """The id `value` spells, or None when it spells none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_ID else None
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 19:
        number = int(value)
        return number if number <= MAX_ID else None
    return None


def id_error(name: str, value: object) -> str:
    return f"{name}: must be an integer id (ASCII digits, at most {MAX_ID}), got {str(value)[:40]!r}"


def page_id(params, name: str) -> int | None:
    """`params[name]` as an id for a page view, None when absent; a malformed one is a 400 naming it."""
    raw = params.get(name)
    if raw in (None, ""):
        return None
    number = as_id(raw)
    if number is None:
        raise BadRequest(id_error(name, raw))
    return number


def api_id(params, name: str, *, required: bool = False) -> int | None:
    """The same for the API: a DRF ValidationError (400, keyed by the parameter)."""
    from rest_framework.exceptions import ValidationError

    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationError({name: [f"{name} (an integer id) is required"]})
        return None
    number = as_id(raw)
    if number is None:
        raise ValidationError({name: [id_error(name, raw)]})
    return number
