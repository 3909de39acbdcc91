"""GraphiQL served by this server alone, so it opens offline and under a strict CSP.

Strawberry's own page loads React, GraphiQL and the explorer plugin from a public CDN. Here the
same files (same versions: the page keeps the integrity hashes strawberry pins, which the browser
checks) are committed under assets/vendor/<package>@<version>/ and served from ASSET_PREFIX,
and the page's script and styles are files too, so the CSP needs no 'unsafe-inline' (the one
style GraphiQL itself writes is allowed by its hash).
"""

from __future__ import annotations

import functools
import html
import json
import os
from pathlib import Path

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from schema.http.graphiql.examples import EXAMPLES, HERO_VIDEO_ID

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
VENDOR = (ASSETS / "vendor").resolve()
ASSET_PREFIX = "/graphiql/assets"
EXAMPLES_PLACEHOLDER = "__VIDEOLIB_EXAMPLES__"

# The one inline style GraphiQL writes: react-remove-scroll-bar's <style> element while a dialog is
# open (it locks the page's scroll). Its text depends only on the body's margins and scrollbar
# width, which index.html's stylesheet fixes at 0 (no margin, overflow hidden), so it never varies.
SCROLL_LOCK_STYLE = "sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc="

# For the page only (the assets are not documents). Nothing but this server: no inline script or
# style attribute, no eval. data: is allowed for fonts and images because GraphiQL's stylesheet
# embeds its fonts and a few icons as data: URLs (the browser checks its integrity hash).
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' '{SCROLL_LOCK_STYLE}'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

# A file under vendor/ never changes at its URL (the version is in the path), so browsers may keep
# it for a year; our own files may change with any release, so they are revalidated (ETag).
VENDOR_CACHE = "public, max-age=31536000, immutable"
OWN_CACHE = "no-cache"


class AssetFiles(StaticFiles):
    """StaticFiles with Cache-Control, and nosniff so a file is only ever run as its own type."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = Path(full_path).resolve().is_relative_to(VENDOR)
        response.headers["Cache-Control"] = VENDOR_CACHE if vendored else OWN_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def asset_routes() -> list[BaseRoute]:
    """The routes serving the page's scripts, styles and icon: add them to the app's routes."""
    return [Mount(ASSET_PREFIX, app=AssetFiles(directory=ASSETS), name="graphiql-assets")]


@functools.cache
def page_html() -> str:
    """The GraphiQL page, its tabs opening on the examples. Serve it with the CSP header above."""
    examples = {"tabs": [example.tab() for example in EXAMPLES], "heroVideoId": HERO_VIDEO_ID}
    # An attribute, not an inline script: the CSP has no exception for data either.
    escaped = html.escape(json.dumps(examples), quote=True)
    return (HERE / "index.html").read_text(encoding="utf-8").replace(EXAMPLES_PLACEHOLDER, escaped)
