"""Configured request limits: each parameter over its limit is named with the limit and the setting."""

from __future__ import annotations

from kcrm.api.limits import query_violations
from kcrm.api.openapi import document_security
from kcrm.foundation.config import Settings


def test_limits_name_the_parameter_and_the_setting() -> None:
    settings = Settings(api_max_query_chars=10, api_max_page_size=20, api_max_hops=2)
    found = query_violations([("q", "x" * 11), ("k", "21"), ("max_hops", "3"), ("limit", "20"), ("k", "abc"),
                              ("text", "short")], settings)
    assert [e["location"] for e in found] == [["query", "q"], ["query", "k"], ["query", "max_hops"]]
    assert "KCRM_API_MAX_QUERY_CHARS" in found[0]["message"] and "KCRM_API_MAX_HOPS" in found[2]["message"]
    assert query_violations([("q", "x" * 10), ("k", "20")], settings) == []


def test_openapi_gets_schemes_roles_and_problems() -> None:
    schema = {"paths": {
        "/healthz": {"get": {"responses": {"200": {}}}},
        "/v1/x": {"get": {"responses": {"200": {}}, "security": [{"bearerAuth": ["agent"]}, {"apiKeyHeader": ["agent"]}]}},
        "/v1/y": {"post": {"responses": {"202": {}}}},
    }}
    out = document_security(schema)
    assert out["paths"]["/healthz"]["get"]["security"] == []
    assert out["paths"]["/v1/x"]["get"]["x-roles"] == ["admin", "agent"]
    assert out["paths"]["/v1/y"]["post"]["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert {"401", "403", "503"} <= set(out["paths"]["/v1/y"]["post"]["responses"])
    assert set(out["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyHeader"}
