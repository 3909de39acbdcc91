"""Reading info.selected_fields, so list resolvers load only what the query asks for.

Fragments are merged and their conditions ignored: at worst we load a little more than needed,
never less.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from resolvers.categories import VideosSelection
from resolvers.errors import ApiError
from resolvers.pages import ConnectionNeeds, VideoNeeds
from resolvers.pagination import PageArgs

Fields = dict[str, list[SelectedField]]


def merged(selections: Iterable[Selection]) -> Fields:
    out: Fields = defaultdict(list)
    stack = list(selections)
    while stack:
        selection = stack.pop()
        if isinstance(selection, SelectedField):
            out[selection.name].append(selection)
        else:  # a fragment spread or an inline fragment
            stack.extend(selection.selections)
    return out


def children(fields: Iterable[SelectedField]) -> Fields:
    return merged(s for f in fields for s in f.selections)


def current(info: Info) -> list[SelectedField]:
    return [f for f in info.selected_fields if isinstance(f, SelectedField)]


def video_needs(video_fields: Iterable[SelectedField]) -> VideoNeeds:
    sub = children(video_fields)
    reactions = children(sub.get("reactions", []))
    category = children(sub.get("category", []))
    return VideoNeeds(
        counts="total" in reactions or "counts" in reactions,
        viewer_reaction="viewerReaction" in reactions,
        progress="viewerProgress" in sub,
        category_count="videoCount" in category,
    )


def connection_needs(connection_fields: Iterable[SelectedField]) -> ConnectionNeeds:
    sub = children(connection_fields)
    edges = children(sub.get("edges", []))
    return ConnectionNeeds(
        node=video_needs(edges.get("node", [])),
        total="totalCount" in sub,
        cursors="cursor" in edges,
    )


def _int(value: Any) -> Any:
    # Literals arrive as their source text; variables arrive coerced.
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def category_plan(category_fields: Iterable[SelectedField]) -> tuple[bool, list[VideosSelection]]:
    """Whether videoCount is selected, and each `videos(...)` selection whose first page can be
    loaded with the list. A selection with bad arguments is left to VideoCategory.videos,
    which reports the error on the field itself."""
    sub = children(category_fields)
    plans: dict[PageArgs, list[SelectedField]] = defaultdict(list)
    for videos in sub.get("videos", []):
        args = videos.arguments
        try:
            page = PageArgs.of(
                _int(args.get("first", 20)), args.get("after"), args.get("orderBy") or "POPULAR"
            )
        except (ApiError, ValueError):
            continue
        plans[page].append(videos)
    selections = [VideosSelection(page, connection_needs(fields)) for page, fields in plans.items()]
    return "videoCount" in sub, selections
