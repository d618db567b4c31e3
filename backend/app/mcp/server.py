"""DocChat as a Model Context Protocol server, for AI assistants and IDEs.

Streamable HTTP at `/mcp` (stateless, JSON responses: any replica answers any request),
built on the official `mcp` SDK. Every request carries `Authorization: Bearer <API key>` and
is authenticated exactly as the REST API authenticates a key (app.auth.deps): a revoked or
expired key, or a user who may no longer sign in, is refused with 401 before the SDK sees the
request. The tools call the same services as the REST routes, scoped to the key's user, with
the same per-user rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.auth.deps import Principal, authenticate_api_key
from app.chat import answering
from app.chat import service as chat_service
from app.chat.schemas import MessageIn
from app.core import security
from app.core.errors import AppError, Unauthorized, error_response
from app.core.logging import user_id_var
from app.core.ratelimit import TOO_MANY_REQUESTS, RateLimitGate, client_ip
from app.core.settings import Settings
from app.documents import service as documents_service
from app.mcp.schemas import AskResult, CitedSource, DocumentSummary, PassageResult
from app.search.highlights import cite, cite_for_query
from app.search.readable import search_readable
from app.sharing import access

MCP_PATH = "/mcp"
PRINCIPAL_KEY = "mcp_principal"
API_KEY_REQUIRED = "The MCP server takes an API key: Authorization: Bearer dc_live_…"
INSTRUCTIONS = (
    "DocChat searches the user's own documents. Use search_documents to find passages, "
    "get_passage to read one again by its chunk_id, list_documents to see what is there, and "
    "ask for an answer grounded in the documents with numbered citations. Cite the filename "
    "and page of what you use."
)


class DocChatMcp:
    """The MCP server of one app, and the ASGI endpoint that authenticates its requests."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self.server: MCPServer[Any] = MCPServer(
            name="DocChat", instructions=INSTRUCTIONS, version=self._settings.git_sha
        )
        self._add_tools()
        self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            json_response=True,
            stateless_http=True,
            # A bearer key, never a cookie, authenticates: a page rebinding its DNS to this
            # server has no key to send, so the Host check (which would refuse every real
            # domain name) protects nothing here.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @property
    def _settings(self) -> Settings:
        settings: Settings = self._app.state.settings
        return settings

    @property
    def _sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        sessionmaker: async_sessionmaker[AsyncSession] = self._app.state.sessionmaker
        return sessionmaker

    @property
    def _gate(self) -> RateLimitGate:
        return RateLimitGate(self._app.state.limiter)

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """The SDK's task group for requests, for the app's lifespan. It lives in a task of
        its own: an anyio task group must be left in the task that entered it, and a
        lifespan may be entered and left in two (pytest's async fixtures do)."""
        stop = asyncio.Event()
        ready = asyncio.Event()

        async def serve() -> None:
            async with self.server.session_manager.run():
                ready.set()
                await stop.wait()

        task = asyncio.create_task(serve())
        await asyncio.wait(
            [task, asyncio.create_task(ready.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if task.done():
            task.result()  # it failed to start: raise why
        try:
            yield
        finally:
            stop.set()
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            principal = await self._authenticate(request)
        except AppError as exc:
            response = error_response(exc.status_code, exc.code, exc.message, exc.headers)
            await response(scope, receive, send)
            return
        user_id_var.set(str(principal.user.id))
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        await self.server.session_manager.handle_request(scope, receive, send)

    async def _authenticate(self, request: Request) -> Principal:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not security.is_api_key(key.strip()):
            raise Unauthorized(API_KEY_REQUIRED)
        async with self._sessionmaker() as session:
            principal = await authenticate_api_key(
                session,
                key=key.strip(),
                ip=client_ip(request),
                settings=self._settings,
                gate=self._gate,
            )
            await session.commit()
        return principal

    def _add_tools(self) -> None:
        self.server.tool(
            title="Search documents",
            description="Find the passages of the user's documents that best match a query.",
        )(self.search_documents)
        self.server.tool(title="List documents", description="The user's documents, newest first.")(
            self.list_documents
        )
        self.server.tool(
            title="Get passage", description="One passage by its chunk_id (from a search)."
        )(self.get_passage)
        self.server.tool(
            title="Ask",
            description=(
                "Answer a question from the user's documents, with numbered citations. "
                "The question and answer are kept as a chat in DocChat."
            ),
        )(self.ask)

    async def search_documents(
        self,
        query: Annotated[str, Field(min_length=1, max_length=2000)],
        ctx: Context,
        k: Annotated[int, Field(ge=1, le=50)] = 8,
        collection_id: Annotated[
            uuid.UUID | None, Field(description="Search only this collection's documents")
        ] = None,
    ) -> list[PassageResult]:
        principal = _principal(ctx)
        settings = self._settings
        async with _tool_errors():
            self._gate.hit(
                settings.search_rate_limit,
                "search",
                str(principal.user.id),
                message=TOO_MANY_REQUESTS,
            )
        async with self._sessionmaker() as session, _tool_errors():
            scope = await access.read_scope(
                session, reader_id=principal.user.id, collection_id=collection_id
            )
            passages = await search_readable(
                session, settings=settings, scope=scope, query=query, k=k
            )
        return [
            PassageResult(
                chunk_id=passage.chunk_id,
                document_id=passage.document_id,
                filename=passage.filename,
                page=cite_for_query(passage, query).page or passage.page_start,
                page_end=passage.page_end,
                sheet=passage.sheet,
                row_start=passage.row_start,
                row_end=passage.row_end,
                heading_path=passage.heading_path,
                text=passage.text,
                score=round(passage.score, 6),
            )
            for passage in passages
        ]

    async def list_documents(
        self,
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=500)] = 100,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> list[DocumentSummary]:
        principal = _principal(ctx)
        async with self._sessionmaker() as session, _tool_errors():
            documents = await documents_service.list_documents(
                session, user_id=principal.user.id, limit=limit, offset=offset
            )
        return [
            DocumentSummary(
                id=readable.document.id,
                filename=readable.document.filename,
                content_type=readable.document.content_type,
                status=readable.document.status,
                page_count=readable.document.page_count,
                chunk_count=readable.document.chunk_count,
                error=readable.document.error,
                created_at=readable.document.created_at,
            )
            for readable in documents
        ]

    async def get_passage(
        self, chunk_id: Annotated[int, Field(ge=1, le=2**63 - 1)], ctx: Context
    ) -> PassageResult:
        principal = _principal(ctx)
        async with self._sessionmaker() as session, _tool_errors():
            chunk = await documents_service.find_chunk(
                session, user_id=principal.user.id, chunk_id=chunk_id
            )
            document = await documents_service.get_document(
                session, user_id=principal.user.id, document_id=chunk.document_id
            )
        return PassageResult(
            chunk_id=chunk.id,
            document_id=document.id,
            filename=document.filename,
            page=cite(chunk, [(0, len(chunk.text))]).page or chunk.page_start,
            page_end=chunk.page_end,
            sheet=chunk.sheet,
            row_start=chunk.row_start,
            row_end=chunk.row_end,
            heading_path=chunk.heading_path,
            text=chunk.text,
        )

    async def ask(
        self, question: Annotated[str, Field(min_length=1, max_length=8000)], ctx: Context
    ) -> AskResult:
        """The chat REST route's path: the question is stored in a new chat, its sources
        retrieved, and the answer (language model or extractive) generated and stored; the
        stored answer is what the tool returns."""
        principal = _principal(ctx)
        user_id = principal.user.id
        settings = self._settings
        async with _tool_errors():
            self._gate.hit(
                settings.chat_rate_limit, "chat", str(user_id), message=TOO_MANY_REQUESTS
            )
        async with self._sessionmaker() as session, _tool_errors():
            chat = await chat_service.create_chat(
                session, user_id=user_id, title=None, document_ids=None
            )
            prepared = await answering.prepare_answer(
                session,
                settings=settings,
                user_id=user_id,
                chat_id=chat.id,
                body=MessageIn(content=question),
            )
            await session.commit()
        events = answering.stream_answer(self._sessionmaker, settings, prepared)
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for _ in events:
                pass
        async with self._sessionmaker() as session, _tool_errors():
            messages = await chat_service.list_messages(session, user_id=user_id, chat_id=chat.id)
        answer = next((s.message for s in messages if s.message.id == prepared.answer_id), None)
        if answer is None:
            raise ToolError(answering.ANSWER_NOT_SAVED)
        if answer.error:
            raise ToolError(answer.error)
        return AskResult(
            answer=answer.content,
            citations=[
                CitedSource(
                    n=c["n"],
                    chunk_id=c["chunk_id"],
                    document_id=c["document_id"],
                    filename=c["filename"],
                    page=c["page"],
                    snippet=c["snippet"],
                )
                for c in answer.citations
            ],
            extractive=answer.extractive,
            chat_id=chat.id,
        )


def _principal(ctx: Context) -> Principal:
    """The caller DocChatMcp authenticated for the HTTP request that carries this call."""
    request = ctx.request_context.request
    principal = request.scope["state"][PRINCIPAL_KEY] if request is not None else None
    if not isinstance(principal, Principal):
        raise ToolError(API_KEY_REQUIRED)
    return principal


@contextlib.asynccontextmanager
async def _tool_errors() -> AsyncIterator[None]:
    """A refusal of the services (not found, rate limited, invalid) as the tool's error."""
    try:
        yield
    except AppError as exc:
        raise ToolError(exc.message) from None
    except ValidationError as exc:
        raise ToolError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
