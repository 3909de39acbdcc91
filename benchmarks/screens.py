"""The GraphQL documents the benchmark sends: the screens a client shows, and two viewer writes."""

from __future__ import annotations

CARD = """
fragment Card on Video {
  id title thumbnailUrl durationSeconds viewCount
  uploadedBy { displayName }
  reactions { total viewerReaction counts { type count } }
  viewerProgress { lastPosition completed }
}
"""

# The README's mobile home screen: on the benchmark's catalogue it returns 13,127 fields.
HOME = (
    """
query Home {
  me { displayName }
  heroVideo { ...Card }
  continueWatching { percentComplete lastPosition video { ...Card } }
  categories {
    name slug videoCount
    videos(first: 25) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...Card } }
    }
  }
}
"""
    + CARD
)

CATEGORY_PAGE_SIZE = 50
CATEGORY = (
    """
query Category($slug: String!, $after: String) {
  category(slug: $slug) {
    name slug videoCount
    videos(first: 50, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...Card } }
    }
  }
}
"""
    + CARD
)

# The whole catalogue in one order: the only list deep enough for a page 100 of 50 videos.
CATALOGUE = (
    """
query Catalogue($after: String) {
  videos(first: 50, after: $after, orderBy: POPULAR) {
    pageInfo { hasNextPage endCursor }
    edges { node { ...Card } }
  }
}
"""
    + CARD
)

PLAYER_MORE = 10
PLAYER = (
    """
query Player($id: ID!) {
  video(id: $id) {
    ...Card description videoUrl captionUrl
    category { name slug videos(first: 10) { edges { node { ...Card } } } }
  }
}
"""
    + CARD
)

SAVE_PROGRESS = """
mutation SaveProgress($input: SaveProgressInput!) {
  saveProgress(input: $input) { lastPosition completed percentComplete }
}
"""

REACT = """
mutation React($videoId: ID!, $type: ReactionType!) {
  react(videoId: $videoId, type: $type) { id reactions { total viewerReaction } }
}
"""


def count_fields(value: object) -> int:
    """Fields in an answer: every key of every object (a list counts its items' fields)."""
    if isinstance(value, dict):
        return len(value) + sum(count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0
