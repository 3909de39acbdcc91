"""GraphiQL is served by this server alone (schema/http/graphiql/), and its example tabs work.

- The page loads nothing from another host, has no inline script or style, and is served with a
  CSP that allows nothing else; every file it loads is served, and matches its integrity hash.
- Every example validates against schema.graphql and runs, in the order of the tabs, against the
  demo catalogue.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import peewee
import pytest
from graphql import build_schema, parse, validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from models import ALL_MODELS
from models.demo import HERO_TITLE, seed
from schema.http.graphiql import ASSET_PREFIX, ASSETS, CSP, SCROLL_LOCK_STYLE, asset_routes, page_html
from schema.http.graphiql.examples import (
    CATEGORY,
    EXAMPLES,
    HERO_VIDEO_ID,
    HOME,
    LOGIN,
    PLAYER,
    REACT,
    REGISTER,
    SAVE_PROGRESS,
    Example,
)

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ASSETS / "videolib-graphiql.js"
HTML = {"Accept": "text/html"}
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class PageParser(HTMLParser):
    """What the page makes a browser load, and anything inline that a strict CSP would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[dict[str, str | None]] = []  # attributes of each element with src/href
        self.inline: list[str] = []
        self.examples: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "src" in attributes or "href" in attributes:
            self.loads.append({"tag": tag, **attributes})
        if tag == "script" and "src" not in attributes:
            self.inline.append("an inline <script>")
        if tag == "style":
            self.inline.append("a <style> element")
        if "style" in attributes:
            self.inline.append(f"a style attribute on <{tag}>")
        self.inline += [f"an {name} handler on <{tag}>" for name in attributes if name.startswith("on")]
        if "data-examples" in attributes:
            self.examples = attributes["data-examples"]


def parsed_page(html: str | None = None) -> PageParser:
    parser = PageParser()
    parser.feed(page_html() if html is None else html)
    return parser


def loaded_urls(parser: PageParser) -> list[str]:
    return [str(element.get("src") or element.get("href")) for element in parser.loads]


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


# --- the page, as a file ----------------------------------------------------------------------


def test_the_page_loads_only_files_of_its_own_server() -> None:
    urls = loaded_urls(parsed_page())
    # React, ReactDOM, GraphiQL and the explorer (script and style each), ours, and the icon.
    assert len(urls) == 9, urls
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", ""), f"{url} is on another host"
        assert url.startswith(ASSET_PREFIX + "/"), url
    assert "unpkg.com" not in page_html() and "jsdelivr" not in page_html()


def test_the_page_has_no_inline_script_or_style() -> None:
    assert parsed_page().inline == []


def test_the_strawberry_page_fails_these_checks() -> None:
    """What the two tests above catch: strawberry's page loads from a CDN and runs inline script."""
    from strawberry.http.ides import get_graphql_ide_html

    strawberry_page = parsed_page(get_graphql_ide_html("graphiql"))
    assert any(urlsplit(url).netloc == "unpkg.com" for url in loaded_urls(strawberry_page))
    assert "an inline <script>" in strawberry_page.inline


def test_the_page_script_names_no_host() -> None:
    """It fetches only the URL the page came from (window.location), so no URL literal at all."""
    source = BOOTSTRAP.read_text(encoding="utf-8")
    assert re.findall(r"[a-z][a-z0-9+.-]*://|[\"'`]//", source, flags=re.IGNORECASE) == []
    assert "window.location.href" in source


def test_the_stylesheets_load_nothing_but_embedded_data() -> None:
    """GraphiQL's CSS embeds its fonts and icons: the CSP allows data: for those and nothing else."""
    for url in loaded_urls(parsed_page()):
        if url.endswith(".css"):
            css = (ASSETS / url.removeprefix(ASSET_PREFIX + "/")).read_text(encoding="utf-8")
            references = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
            references += re.findall(r"@import\s+['\"]([^'\"]+)", css)
            assert all(ref.startswith("data:") for ref in references), (url, references)


def test_vendored_files_match_the_integrity_hashes_strawberry_pins() -> None:
    """Same versions as strawberry's page: its CDN URLs and hashes, and ours, name the same files."""
    from strawberry.http.ides import get_graphql_ide_html

    pinned = {
        urlsplit(str(element.get("src") or element.get("href"))).path: element["integrity"]
        for element in parsed_page(get_graphql_ide_html("graphiql")).loads
        if element.get("integrity")
    }
    ours = [element for element in parsed_page().loads if element.get("integrity")]
    assert len(ours) == 6
    for element in ours:
        url = str(element.get("src") or element.get("href"))
        content = (ASSETS / url.removeprefix(ASSET_PREFIX + "/")).read_bytes()
        assert sri(content) == element["integrity"], url
        assert element["integrity"] in pinned.values(), f"{url}: a hash strawberry's page does not pin"


def test_the_csp_allows_only_this_server() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == f"'self' '{SCROLL_LOCK_STYLE}'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP and "http" not in CSP and "*" not in CSP


# react-remove-scroll-bar's stylesheet (getStyles in GraphiQL's bundle) as a dialog writes it, with
# the zero body margins and scrollbar width that index.html's stylesheet gives it.
SCROLL_LOCK_CSS = "\n".join(
    [
        "",
        "  .with-scroll-bars-hidden {",
        "   overflow: hidden !important;",
        "   padding-right: 0px !important;",
        "  }",
        "  body {",
        "    overflow: hidden !important;",
        "    overscroll-behavior: contain;",
        "    position: relative !important;",
        "    padding-left: 0px;",
        "    padding-top: 0px;",
        "    padding-right: 0px;",
        "    margin-left:0;",
        "    margin-top:0;",
        "    margin-right: 0px !important;",
        "    ",
        "  }",
        "  ",
        "  .right-scroll-bar-position {",
        "    right: 0px !important;",
        "  }",
        "  ",
        "  .width-before-scroll-bar {",
        "    margin-right: 0px !important;",
        "  }",
        "  ",
        "  .right-scroll-bar-position .right-scroll-bar-position {",
        "    right: 0 !important;",
        "  }",
        "  ",
        "  .width-before-scroll-bar .width-before-scroll-bar {",
        "    margin-right: 0 !important;",
        "  }",
        "  ",
        "  body {",
        "    --removed-body-scroll-bar-size: 0px;",
        "  }",
        "",
    ]
)


def test_the_one_allowed_inline_style_is_the_scroll_lock_of_a_dialog() -> None:
    digest = base64.b64encode(hashlib.sha256(SCROLL_LOCK_CSS.encode()).digest()).decode()
    assert f"sha256-{digest}" == SCROLL_LOCK_STYLE
    source = (ASSETS / "vendor/graphiql@3.8.3/graphiql.min.js").read_text(encoding="utf-8")
    assert "var getStyles = function (_a, allowRelative, gapMode, important)" in source
    own_css = (ASSETS / "videolib-graphiql.css").read_text(encoding="utf-8")
    assert "margin: 0;" in own_css and "overflow: hidden;" in own_css  # what makes the gaps zero


def test_the_page_opens_on_the_examples() -> None:
    examples = parsed_page().examples
    assert examples is not None
    data = json.loads(examples)
    assert data["heroVideoId"] == HERO_VIDEO_ID
    assert data["tabs"] == [example.tab() for example in EXAMPLES]
    assert [tab["query"].count("\n") > 3 for tab in data["tabs"]] == [True] * 7


# --- the assets, served -----------------------------------------------------------------------


@pytest.fixture
def assets_app() -> Iterator[TestClient]:
    """The page and asset_routes() alone, as server.create_app serves them."""

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(page_html(), headers={"Content-Security-Policy": CSP})

    with TestClient(Starlette(routes=[Route("/graphql", page), *asset_routes()])) as http:
        yield http


def check_served_assets(http: TestClient, html: str) -> None:
    parser = parsed_page(html)
    assert len(parser.loads) == 9
    for element in parser.loads:
        url = str(element.get("src") or element.get("href"))
        response = http.get(url)
        assert response.status_code == 200, url
        suffix = Path(urlsplit(url).path).suffix
        assert CONTENT_TYPES[suffix] in response.headers["content-type"], (url, response.headers)
        assert response.headers["x-content-type-options"] == "nosniff"
        if element.get("integrity"):
            assert sri(response.content) == element["integrity"], url
            assert "immutable" in response.headers["cache-control"], url
        else:
            assert response.headers["cache-control"] == "no-cache", url


def test_asset_routes_serve_every_file_the_page_loads(assets_app: TestClient) -> None:
    check_served_assets(assets_app, assets_app.get("/graphql").text)


def test_asset_routes_serve_nothing_outside_the_assets(assets_app: TestClient) -> None:
    assert assets_app.get(f"{ASSET_PREFIX}/../__init__.py").status_code == 404
    assert assets_app.get(f"{ASSET_PREFIX}/../index.html").status_code == 404
    assert assets_app.get(f"{ASSET_PREFIX}/vendor/nothing.js").status_code == 404


def test_an_unchanged_asset_is_not_sent_again(assets_app: TestClient) -> None:
    url = f"{ASSET_PREFIX}/videolib-graphiql.js"
    etag = assets_app.get(url).headers["etag"]
    assert assets_app.get(url, headers={"If-None-Match": etag}).status_code == 304


# --- through the real app (server.create_app) -------------------------------------------------


def test_graphql_in_a_browser_is_our_page_with_its_csp(client: Any) -> None:
    response = client.http.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.text == page_html()
    assert response.headers["content-security-policy"] == CSP
    assert "Accept" in response.headers["vary"]
    check_served_assets(client.http, response.text)


def test_without_introspection_there_is_no_page_and_no_assets(settings: Any, db: peewee.Database) -> None:
    import dataclasses

    from models.database import bind
    from server import create_app

    with TestClient(create_app(dataclasses.replace(settings, introspection=False))) as http:
        assert http.get("/graphql", headers=HTML).status_code == 404
        assert http.get(f"{ASSET_PREFIX}/videolib-graphiql.js").status_code == 404
    bind(db)


# --- the examples -----------------------------------------------------------------------------


def operation_name(example: Example) -> str:
    match = re.search(r"^(?:query|mutation) (\w+)", example.query, flags=re.MULTILINE)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("example", EXAMPLES, ids=operation_name)
def test_each_example_validates_against_the_printed_schema(example: Example) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    document = parse(example.query)
    assert validate(schema, document) == []
    operations = [d for d in document.definitions if d.kind == "operation_definition"]
    assert len(operations) == 1  # one per tab: the run button then needs no choosing


def with_video_id(example: Example, video_id: str) -> dict[str, Any]:
    """The tab's variables as the page sends them, once it has looked the hero's ID up."""
    return json.loads(json.dumps(example.variables).replace(HERO_VIDEO_ID, video_id))


def test_the_examples_run_in_order_against_the_demo_catalogue(db: peewee.Database, client: Any) -> None:
    with db.bind_ctx(ALL_MODELS):
        seed(db)
    # What the page does before opening the tabs.
    hero_id = client.data("query ExampleVideoId { heroVideo { id } }")["heroVideo"]["id"]

    def run(example: Example, token: str | None = None) -> dict[str, Any]:
        return client.data(example.query, with_video_id(example, hero_id), token)

    home = run(HOME)
    assert home["heroVideo"]["title"] == HERO_TITLE
    assert [c["slug"] for c in home["categories"]] == ["nature", "science", "cooking", "travel", "tech"]
    assert all(c["videos"]["edges"] for c in home["categories"])
    assert home["me"] is None and home["continueWatching"] == []
    # The demo viewers' reactions make the counts real.
    assert home["heroVideo"]["reactions"]["total"] == 6
    nature_row = home["categories"][0]
    assert nature_row["videoCount"] == 32 and nature_row["videos"]["pageInfo"]["hasNextPage"] is True

    category = run(CATEGORY)["category"]
    assert category["name"] == "Nature & Wildlife"
    titles = [edge["node"]["title"] for edge in category["videos"]["edges"]]
    assert titles[0] == HERO_TITLE  # NEWEST: the hero is the newest video
    assert len(titles) == CATEGORY.variables["first"] == 10 and category["videoCount"] == 32
    # The tab's comment says how to get the next page: set "after" to pageInfo.endCursor.
    assert category["videos"]["pageInfo"]["hasNextPage"] is True
    after = {**CATEGORY.variables, "after": category["videos"]["pageInfo"]["endCursor"]}
    second = client.data(CATEGORY.query, after)["category"]["videos"]
    more = [edge["node"]["title"] for edge in second["edges"]]
    assert len(more) == 10 and not set(more) & set(titles)
    assert second["edges"][0]["cursor"] != category["videos"]["edges"][-1]["cursor"]

    player = run(PLAYER)["video"]
    assert player["id"] == hero_id and player["title"] == HERO_TITLE
    assert HERO_TITLE in [edge["node"]["title"] for edge in player["category"]["videos"]["edges"]]

    registered = run(REGISTER)["register"]
    assert registered["user"]["email"] == REGISTER.variables["input"]["email"]
    token = run(LOGIN)["login"]["token"]
    assert token != registered["token"]

    progress = run(SAVE_PROGRESS, token)["saveProgress"]
    assert progress["lastPosition"] == 120 and progress["video"]["id"] == hero_id
    loves = {c["type"]: c["count"] for c in player["reactions"]["counts"]}["LOVE"]
    reacted = run(REACT, token)["react"]
    assert reacted["reactions"]["viewerReaction"] == "LOVE"
    assert {"type": "LOVE", "count": loves + 1} in reacted["reactions"]["counts"]
    assert reacted["reactions"]["total"] == player["reactions"]["total"] + 1 == 7

    home = run(HOME, token)
    assert home["me"]["displayName"] == "Developer"
    assert [p["video"]["title"] for p in home["continueWatching"]] == [HERO_TITLE]


def test_the_signed_in_examples_say_how_to_sign_in(client: Any) -> None:
    """Run alone, they are refused: their comment tells why."""
    for example in (SAVE_PROGRESS, REACT):
        assert example.query.startswith("# Signed in only: run Register or Login first.")
        error = client.error(example.query, with_video_id(example, "VmlkZW86MQ=="))
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
