"""The OpenAPI document with the API key schemes, each operation's roles and its error answers.

Authentication is a middleware (deny by default). Operations guarded by `require_roles` carry
the two schemes already, with their roles as the requirement's list (OpenAPI 3.1 allows role
names there); this adds the same schemes (without roles) to any other protected operation,
`security: []` to the public ones, `x-roles`, and the 401/403/413/422/503/500 problem answers a
protected operation can give, so clients and schemathesis see what the server really does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kcrm.api.auth import is_public

SCHEMES = ("bearerAuth", "apiKeyHeader")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
COMMON_ERRORS = {
    "401": "No API key, or an unknown or revoked one",
    "403": "The key lacks a role this endpoint needs",
    "413": "The request body is over KCRM_API_MAX_REQUEST_MB",
    "422": "A parameter is invalid or over a configured limit",
    "503": "Neo4j or the search index is unavailable; retry after Retry-After seconds",
    "500": "An unexpected error (logged on the server)",
}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}


def document_security(schema: dict[str, Any]) -> dict[str, Any]:
    """Add schemes, roles and problem answers to a generated OpenAPI document (in place).

    Error answers are declared as `application/problem+json` with the Problem schema, which is
    what the handlers send (FastAPI would declare `application/json` and its own 422 shape).
    """
    from kcrm.api.problems import Problem

    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).setdefault("Problem", Problem.model_json_schema())
    schemes = components.setdefault("securitySchemes", {})
    schemes.setdefault("bearerAuth", {"type": "http", "scheme": "bearer"})
    schemes.setdefault("apiKeyHeader", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    schema["security"] = [{name: []} for name in SCHEMES]
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for response in responses.values():
                declared = response.get("content", {}).get("application/json", {}).get("schema", {})
                if declared.get("$ref", "").endswith(("/Problem", "/HTTPValidationError")):
                    response["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}  # what is sent
            if is_public(path):
                operation["security"] = []
                responses.setdefault("500", _problem(COMMON_ERRORS["500"]))
                continue
            roles = sorted({role for req in operation.get("security", []) for scopes in req.values()
                            for role in scopes})
            operation["security"] = [{name: roles} for name in SCHEMES]
            if roles:
                operation["x-roles"] = sorted({*roles, "admin"})
                operation["description"] = (operation.get("description", "")
                                            + f"\n\nRoles: {', '.join(operation['x-roles'])}.").strip()
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, _problem(description))
    return schema


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with one that documents authentication, roles and problems."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            app.openapi_schema = document_security(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
