"""Which media type answers a request, from its Accept header.

The spec allows a choice where the client expresses none; ours (README, "GraphQL over HTTP"):
- no Accept header, or one that names neither type (`*/*`, `application/*`): application/json, the
  legacy type every client reads, answered 200 for any well-formed request;
- otherwise the acceptable type with the higher q; at equal q, application/graphql-response+json;
- nothing acceptable (`Accept: text/csv`): None, which the view answers with 406.
"""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
HTML = "text/html"


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _quality(media: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q of the most specific range matching `media`, and how specific it was (2 exact, 1 type/*,
    0 */*); (0, -1) when none matches."""
    kind = media.split("/")[0]
    best = (0.0, -1)
    for candidate, q in ranges:
        if candidate == media:
            specificity = 2
        elif candidate == f"{kind}/*":
            specificity = 1
        elif candidate == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best


def response_type(accept: str | None) -> str | None:
    if not accept or not accept.strip():
        return JSON
    ranges = _ranges(accept)
    graphql_q, graphql_specificity = _quality(GRAPHQL_RESPONSE, ranges)
    json_q, _ = _quality(JSON, ranges)
    if graphql_q <= 0 and json_q <= 0:
        return None
    # Only a client that names the new type asks for its status codes; `*/*` gets the legacy one.
    if graphql_specificity == 2 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE
    return JSON if json_q > 0 else GRAPHQL_RESPONSE


def wants_html(accept: str | None) -> bool:
    """A browser navigating to /graphql: it gets GraphiQL."""
    return bool(accept) and any(media == HTML and q > 0 for media, q in _ranges(accept or ""))
