"""Serve the frontend's static export at `/` in the one-process setup."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

API_PATH = "/api"


def is_api_path(path: str) -> bool:
    return path == API_PATH or path.startswith(API_PATH + "/")


class FrontendMount(Mount):
    """The web app at `/`, except under /api/: an unknown API path (or a known one with the
    wrong method) falls through to the router, which answers the JSON 404 or 405, not the
    web app's HTML 404 page."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def mount_frontend(app: FastAPI, dist: Path) -> None:
    """Mounted last so API routes win; absent in API-only deployments (frontend on Vercel)."""
    if (dist / "index.html").is_file():
        app.router.routes.append(
            FrontendMount("/", app=StaticFiles(directory=dist, html=True), name="frontend")
        )
