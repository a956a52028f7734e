"""The donor pages: `/`, `/c/{code}`, `/c/{code}/sao-ke`, `/r/{receipt_code}`.

HTML, not the JSON API: left out of /openapi.json. Each page runs in one read-only
transaction like every GET (`PageRoute` is a `TransactionalRoute`); a refused request
(unknown or draft campaign, unknown receipt, bad search input) is an HTML page with its
status and a way back, never problem JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import SessionDep
from app.errors import DomainError, NotFound
from app.pages import i18n, service
from app.pages.rendering import render
from app.routing import TransactionalRoute

STATIC = "/static"
# A strict policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class PageRoute(TransactionalRoute):
    """A page: one read-only transaction per request; refusals rendered as HTML pages.

    Query parameters a page does not read are dropped, not refused: a link shared on a
    fanpage arrives with `fbclid` or `utm_source` appended, and must still open."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            known = self.query_names  # set once the route is built
            kept = [(k, v) for k, v in request.query_params.multi_items() if k in known]
            scope = {**request.scope, "query_string": urlencode(kept).encode()}
            request = Request(scope, request.receive)
            try:
                return await handler(request)
            except DomainError as refused:
                return error_page(request, refused)

        return page


router = APIRouter(route_class=PageRoute, include_in_schema=False)


class Language:
    """The page's language and how links keep it."""

    def __init__(self, request: Request, lang: str | None, accept_language: str | None) -> None:
        self.code = i18n.negotiate(lang, accept_language)
        self.pinned = lang in i18n.LANGUAGES
        self.request = request

    def link(self, path: str, **params: Any) -> str:
        """`path` with `params` (empty ones dropped), keeping `?lang=` when it was chosen."""
        query = {k: str(v) for k, v in params.items() if v not in (None, "")}
        if self.pinned:
            query["lang"] = self.code
        return path + ("?" + urlencode(query) if query else "")

    def switch(self, language: str) -> str:
        """This page in `language`."""
        query = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        return self.request.url.path + "?" + urlencode([*query, ("lang", language)])


def _language_of(request: Request) -> Language:
    lang = request.query_params.get("lang")
    return Language(request, lang, request.headers.get("accept-language"))


def page(lang: Language, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    html = render(lang.code, template, link=lang.link, switch=lang.switch, **context)
    response = HTMLResponse(html, status_code=code)
    response.headers["Content-Language"] = lang.code
    response.headers["Vary"] = "Accept-Language"
    return response


def error_page(request: Request, refused: DomainError) -> HTMLResponse:
    """A refusal as a page: what went wrong in the reader's language and a way back."""
    lang = _language_of(request)
    code = request.path_params.get("code")
    back = lang.link(f"/c/{code}") if code and refused.code != "campaign_not_found" else None
    return page(
        lang, "error.html", refused.status, status=refused.status, reason=refused.code, back=back
    )


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    lang: str | None = None,
) -> HTMLResponse:
    chosen = _language_of(request)
    return page(chosen, "home.html", campaigns=service.home(session))


@router.api_route("/c/{code}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def campaign(
    code: str,
    request: Request,
    session: SessionDep,
    lang: str | None = None,
    place: str | None = None,
) -> HTMLResponse:
    chosen = _language_of(request)
    view = service.campaign_page(session, code, place, lambda on: i18n.day(on, chosen.code))
    return page(chosen, "campaign.html", view=view)


@router.api_route("/c/{code}/sao-ke", methods=["GET", "HEAD"], response_class=HTMLResponse)
def statement(
    code: str,
    request: Request,
    session: SessionDep,
    lang: str | None = None,
    q: str = "",
    amount: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    ref: str = "",
    cursor: str = "",
) -> HTMLResponse:
    form = service.SearchForm(
        q=q, amount=amount, date_from=from_, date_to=to, ref=ref, cursor=cursor
    )
    view = service.statement_page(session, code, form)
    status = 422 if form.errors else 200
    return page(_language_of(request), "statement.html", status, view=view)


@router.api_route("/r", methods=["GET", "HEAD"], response_class=HTMLResponse)
def find_receipt(
    request: Request,
    session: SessionDep,
    lang: str | None = None,
    code: str = "",
) -> Response:
    """The receipt box on the home page: on to the receipt's own page."""
    chosen = _language_of(request)
    typed = code.strip().upper()
    if not service.RECEIPT_CODE.match(typed):
        raise NotFound("receipt_not_found", f"No contribution has receipt code {typed!r}.")
    return RedirectResponse(chosen.link(f"/r/{typed}"), status_code=303)


@router.api_route("/r/{receipt_code}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def receipt(
    receipt_code: str,
    request: Request,
    session: SessionDep,
    lang: str | None = None,
) -> HTMLResponse:
    view = service.receipt_page(session, receipt_code)
    url = str(request.url_for("receipt", receipt_code=view.receipt.receipt_code))
    qr = segno.make(url, error="m")
    return page(
        _language_of(request),
        "receipt.html",
        view=view,
        receipt_url=url,
        qr_data_uri=qr.svg_data_uri(scale=4, border=4),
        qr_size=qr.symbol_size(scale=4, border=4)[0],
    )


class PageHeaders:
    """The pages' security headers (CSP, nosniff, Referrer-Policy) on the pages and their
    assets only: /docs keeps the inline script Swagger UI needs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not is_page(path):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(PAGE_HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)


def is_page(path: str) -> bool:
    return path in ("/", "/r") or path.startswith(("/c/", "/r/", f"{STATIC}/"))


def install(app: FastAPI) -> None:
    """Serve the pages, their stylesheet (from the package itself), and their headers."""
    static = resources.files("app.pages") / "static"
    app.mount(STATIC, StaticFiles(directory=str(static)), name="pages-static")
    app.include_router(router)
    app.add_middleware(PageHeaders)
