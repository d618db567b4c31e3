"""A route class that records its path template for logs and metrics.

FastAPI hands sub-applications copies of the ASGI scope, so `scope["route"]` set during
routing never reaches outer middleware; the shared `scope["state"]` dict does.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.routing import Match, Route
from starlette.types import Scope

ROUTE_TEMPLATE_KEY = "route_template"
API_PREFIX = "/api/v1"


def _record_template(scope: Scope, match: Match, template: str) -> None:
    if match != Match.NONE and "state" in scope:
        scope["state"][ROUTE_TEMPLATE_KEY] = template


class TemplatedRoute(APIRoute):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        _record_template(scope, match, self.path_format)
        return match, child_scope


class TemplatedPlainRoute(Route):
    """A Starlette route (no FastAPI request machinery) that records its template."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        _record_template(scope, match, self.path_format)
        return match, child_scope


def refuse_repeated_query_parameters(request: Request) -> None:
    """A query parameter given twice is ambiguous (FastAPI would silently keep the last
    value, so `?actor=a&actor=b` filtered by b alone): a 422 naming it."""
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in request.query_params.multi_items():
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "Give this parameter once.",
                    "type": "repeated_parameter",
                }
                for name in repeated
            ]
        )


def api_router(**kwargs: object) -> APIRouter:
    """An APIRouter whose routes record their template and take each query parameter at most
    once. Give it the full prefix and include it in the app without one, so each route's
    template is its whole path."""
    return APIRouter(
        route_class=TemplatedRoute,
        dependencies=[Depends(refuse_repeated_query_parameters)],
        **kwargs,  # type: ignore[arg-type]
    )
