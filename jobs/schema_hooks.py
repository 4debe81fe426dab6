"""Documents, on every operation of the OpenAPI schema, the error answers the API really gives: 400 (field errors
keyed by parameter or setting), 401 (no credentials), 403 (a role that may not), 404 (no such object or page)
and, for actions on a job, 409 (the job cannot do that now). Clients and schemathesis then know every status."""

ERROR = {"type": "object", "additionalProperties": True,
         "description": "`detail` with a message, or field name -> list of messages"}
ERRORS = {
    "400": "bad input: the body names every field or parameter at fault",
    "401": "no credentials (token or session)",
    "403": "the user's role does not allow this",
    "404": "no such object, or a page past the end",
}


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(ERRORS)
            if path.endswith(("/cancel/", "/resume/")):
                statuses["409"] = "the job cannot do this in its present state"
            for status, description in statuses.items():
                operation["responses"].setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
    return result
