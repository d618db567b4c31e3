"""Serve the frontend's static export at `/` in the one-process setup."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles


def mount_frontend(app: FastAPI, dist: Path) -> None:
    """Mounted last so API routes win; absent in API-only deployments (frontend on Vercel)."""
    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="frontend")
