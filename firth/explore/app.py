"""The explore page's ASGI app (Starlette): the static page and a JSON API over an Explorer.

API (every answer is JSON; errors are ``{"error": "..."}`` with status 400, or 404 for an
unknown word); ``model`` is 0 or 1 (the first or second vectors file):

    GET  /api/info                                  models, map methods, WEAT tests, limits
    GET  /api/complete?prefix=ki&limit=10&model=0   vocabulary words starting with prefix
    GET  /api/neighbours?word=king&topn=10          each model's neighbours, and their overlap
    GET  /api/analogy?a=man&b=king&c=woman&method=add|mul&topn=10&model=0
    POST /api/map      {"mode": "neighbours"|"words"|"frequent", "word", "words", "n", "method", "model"}
    GET  /api/weat?test=weat1&model=0               one bundled WEAT test, per-word associations
    POST /api/axis     {"pairs": [["he", "she"], ...], "words": [...], "model": 0}
    GET  /api/pair?w1=hot&w2=cold&model=0           cosine, WordNet antonym/synonym, list means
    GET  /api/report?model=0                        firth evaluate: similarity and analogies

The client never names a file: the server serves its own fixed assets and the vectors it
was started with. Every page asset comes from the package (no CDN); a Content-Security-Policy
forbids inline scripts and other origins, so a word that looks like HTML can only be text.
"""

from __future__ import annotations

import json
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from firth.errors import FirthError, UnknownWordError
from firth.explore.session import LIMITS, Explorer

ASSETS = {  # the only files the server ever sends
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                                "img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _asset(name: str) -> bytes:
    return resources.files("firth.explore").joinpath("static", name).read_bytes()


def create_app(explorer: Explorer, allowed_hosts=("127.0.0.1", "localhost")) -> Starlette:
    """The app; ``allowed_hosts`` guards against DNS rebinding (a page elsewhere resolving
    its own name to 127.0.0.1 to read the API)."""
    cache = {name: _asset(name) for name in ASSETS}
    index = _asset("index.html")

    def ok(data) -> Response:
        body = json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return Response(body, media_type="application/json", headers=HEADERS)

    def endpoint(fn, post: bool = False):
        async def run(request: Request) -> Response:
            try:
                arg = await _json_body(request) if post else request
                return ok(await run_in_threadpool(fn, arg))  # numpy work off the event loop
            except UnknownWordError as e:
                return JSONResponse({"error": str(e)}, status_code=404, headers=HEADERS)
            except FirthError as e:
                return JSONResponse({"error": str(e)}, status_code=400, headers=HEADERS)
        return run

    def q(request: Request, name: str, default=None):
        v = request.query_params.get(name, default)
        if v is None:
            raise FirthError(f"{name}: missing")
        if isinstance(v, str) and len(v) > 4 * LIMITS.word_chars:
            raise FirthError(f"{name}: {len(v)} characters; at most {4 * LIMITS.word_chars}")
        return v

    ex = explorer
    routes = [
        Route("/", lambda r: Response(index, media_type="text/html; charset=utf-8", headers=HEADERS)),
        Route("/static/{name}", lambda r: Response(cache[r.path_params["name"]], media_type=ASSETS[r.path_params["name"]],
                                                   headers=HEADERS) if r.path_params["name"] in cache
              else Response("not found", status_code=404, headers=HEADERS)),
        Route("/api/info", endpoint(lambda r: ex.info())),
        Route("/api/complete", endpoint(lambda r: ex.complete(q(r, "prefix"), q(r, "limit", 10), q(r, "model", 0)))),
        Route("/api/neighbours", endpoint(lambda r: ex.neighbours(q(r, "word"), q(r, "topn", 10)))),
        Route("/api/analogy", endpoint(lambda r: ex.analogy(q(r, "a"), q(r, "b"), q(r, "c"), q(r, "method", "add"),
                                                           q(r, "topn", 10), q(r, "model", 0)))),
        Route("/api/map", endpoint(lambda d: _map(ex, d), post=True), methods=["POST"]),
        Route("/api/weat", endpoint(lambda r: ex.weat(q(r, "test"), q(r, "model", 0)))),
        Route("/api/axis", endpoint(lambda d: _axis(ex, d), post=True), methods=["POST"]),
        Route("/api/pair", endpoint(lambda r: ex.pair(q(r, "w1"), q(r, "w2"), q(r, "model", 0)))),
        Route("/api/report", endpoint(lambda r: ex.report(q(r, "model", 0)))),
    ]
    middleware = [] if "*" in allowed_hosts else [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    return Starlette(routes=routes, middleware=middleware)


async def _json_body(request: Request) -> dict:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > LIMITS.body_bytes:  # stop reading: the bound holds without Content-Length
            raise FirthError(f"request body: more than {LIMITS.body_bytes} bytes")
    try:
        data = json.loads(bytes(raw))
    except ValueError:
        raise FirthError("request body: not valid JSON") from None
    if not isinstance(data, dict):
        raise FirthError("request body: expected a JSON object")
    return data


def _map(ex: Explorer, d: dict) -> dict:
    return ex.map(mode=str(d.get("mode", "neighbours")), word=d.get("word"), words=d.get("words"),
                  n=d.get("n", 50), method=str(d.get("method", "pca")), model=d.get("model", 0))


def _axis(ex: Explorer, d: dict) -> dict:
    return ex.axis(d.get("pairs"), d.get("words"), model=d.get("model", 0))
