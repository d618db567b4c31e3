"""The FastAPI application: `uvicorn app.main:app` (or `docchat serve`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from app.account.routes import router as account_router
from app.admin.routes import router as admin_router
from app.ai.factory import get_embedder
from app.apikeys.routes import router as api_keys_router
from app.auth.routes import router as auth_router
from app.chat.routes import models_router
from app.chat.routes import router as chat_router
from app.chat.runs import answer_runs
from app.core import metrics
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.client_address import ClientAddressMiddleware
from app.core.cors import StrictCORSMiddleware
from app.core.db import create_engine, create_sessionmaker, resolve_database_url
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.observability import init_sentry
from app.core.ratelimit import create_limiter
from app.core.routing import TemplatedPlainRoute, TemplatedRoute
from app.core.settings import ConfigError, Settings, get_settings
from app.core.static import mount_frontend
from app.documents.indexing import log_embedding_disagreement
from app.documents.routes import collection_documents_router
from app.documents.routes import router as documents_router
from app.documents.storage import open_originals
from app.health import health, ready
from app.library.routes import router as library_router
from app.mcp.server import MCP_PATH, DocChatMcp
from app.search.routes import router as search_router
from app.sharing.routes import collections_router, groups_router
from app.sharing.service import sync_directory_groups
from app.suggestions.routes import router as suggestions_router
from app.suggestions.routes import scope_router as scope_suggestions_router
from app.worker import run_worker_in_background

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = await asyncio.to_thread(resolve_database_url, settings)
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout_s=settings.db_pool_timeout_s,
    )
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.embedding_model_id = get_embedder(settings).model_id
    await log_embedding_disagreement(engine, model_id=app.state.embedding_model_id, role="api")

    async with (
        answer_runs() as app.state.answer_runs,
        open_originals(settings, app.state.sessionmaker) as app.state.originals,
        run_worker_in_background(settings, app.state.sessionmaker, app.state.originals),
        metrics.private_server(settings),
        app.state.mcp.run(),
    ):
        logger.info(
            "startup", extra={"version": settings.git_sha, "environment": settings.environment}
        )
        yield
    await engine.dispose()
    logger.info("shutdown")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.validate_for_startup()
    configure_logging(settings.log_level, settings.log_output)
    sentry_enabled = init_sentry(settings)

    docs = settings.api_docs
    app = FastAPI(
        title="DocChat API",
        version=settings.git_sha,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.router.route_class = TemplatedRoute
    app.state.settings = settings
    app.state.limiter = create_limiter(
        settings.rate_limit_storage_uri, enabled=settings.rate_limit_enabled
    )
    install_error_handlers(app)

    for path, endpoint in (("/health", health), ("/ready", ready)):
        app.router.routes.append(
            TemplatedPlainRoute(path, endpoint, methods=["GET"], include_in_schema=False)
        )
    app.state.sso_group_sync = sync_directory_groups
    app.state.mcp = DocChatMcp(app)
    app.router.routes.append(
        TemplatedPlainRoute(
            MCP_PATH, app.state.mcp, methods=["GET", "POST", "DELETE"], include_in_schema=False
        )
    )
    for router in (
        auth_router,
        account_router,
        api_keys_router,
        # Before documents_router: /documents/bulk/… is not a document id.
        library_router,
        documents_router,
        search_router,
        chat_router,
        models_router,
        suggestions_router,
        scope_suggestions_router,
        collections_router,
        collection_documents_router,
        groups_router,
        admin_router,
    ):
        app.include_router(router)
    app.add_route("/metrics", metrics.metrics_endpoint, include_in_schema=False)
    mount_frontend(app, settings.frontend_dist or default_frontend_dist())

    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        upload_max_bytes=settings.max_upload_bytes,
        upload_prefixes=("/api/v1/documents",),
    )
    app.add_middleware(RequestContextMiddleware, sentry_enabled=sentry_enabled)
    if settings.client_ip_header or settings.trusted_proxy_hops:
        app.add_middleware(
            ClientAddressMiddleware,
            client_ip_header=settings.client_ip_header,
            trusted_proxy_hops=settings.trusted_proxy_hops,
        )
    if settings.frontend_origin:
        # Outermost, so that every response (a 500 included) carries the CORS headers.
        app.add_middleware(
            StrictCORSMiddleware,
            allow_origins=settings.frontend_origin,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Content-Disposition", "X-Next-Cursor"],
            max_age=600,
        )
    return app


def default_frontend_dist() -> Path:
    return Path(__file__).resolve().parents[2] / "frontend" / "out"


def _create_default_app() -> FastAPI:
    try:
        return create_app()
    except ConfigError as exc:
        raise SystemExit(f"configuration error: {exc}") from None


app = _create_default_app()
