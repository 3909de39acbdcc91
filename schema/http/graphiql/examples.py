"""The operations GraphiQL opens with, one tab each: the app's screens, then signing in and the
viewer's writes. tests/test_graphiql.py validates every one against schema.graphql and runs it,
in this order, over HTTP against the demo catalogue.

The player and the writes need a video's global ID, which depends on the database; the page
asks the server for the hero video's ID and puts it where HERO_VIDEO_ID stands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Replaced in the browser (assets/videolib-graphiql.js) by `heroVideo { id }`.
HERO_VIDEO_ID = "<hero video id>"

# Credentials of the Register and Login tabs: Login works once Register has run.
DEV_EMAIL = "developer@example.com"
DEV_PASSWORD = "correct horse battery"

# Kept under 60 characters a line: the width of GraphiQL's editor beside its results.
SIGNED_IN = (
    "# Signed in only: run Register or Login first. This page\n"
    "# then sends their token (Authorization: Bearer …) until\n"
    "# Logout; an Authorization set in Headers below wins.\n"
)

# What a card on every screen shows; each tab is a document of its own, so each repeats it.
VIDEO_CARD = """
fragment VideoCard on Video {
  id
  title
  thumbnailUrl
  durationSeconds
  viewCount
  reactions { total counts { type count } viewerReaction }
  viewerProgress { lastPosition percentComplete completed }
}
"""


@dataclass(frozen=True)
class Example:
    query: str
    variables: dict[str, Any] = field(default_factory=dict)

    def tab(self) -> dict[str, str | None]:
        """A GraphiQL `defaultTabs` entry: editors hold text."""
        return {
            "query": self.query.strip() + "\n",
            "variables": json.dumps(self.variables, indent=2) if self.variables else None,
        }


HOME = Example(
    """
# The home screen in one request: the hero, the viewer's
# unfinished videos, and a row of videos per category.
query Home {
  me { displayName }
  heroVideo { ...VideoCard description }
  continueWatching {
    percentComplete
    lastPosition
    video { ...VideoCard }
  }
  categories {
    id
    name
    slug
    videoCount
    videos(first: 10) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...VideoCard } }
    }
  }
}
"""
    + VIDEO_CARD
)

CATEGORY = Example(
    """
# One category's screen. For the next page, set "after"
# (in Variables below) to pageInfo.endCursor.
query Category(
  $slug: String!
  $first: Int = 20
  $after: String
  $orderBy: VideoOrder = POPULAR
) {
  category(slug: $slug) {
    id
    name
    videoCount
    videos(first: $first, after: $after, orderBy: $orderBy) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...VideoCard } }
    }
  }
}
"""
    + VIDEO_CARD,
    {"slug": "nature", "first": 10, "after": None, "orderBy": "NEWEST"},
)

PLAYER = Example(
    """
# The player screen: the video, the viewer's reaction and
# where to resume, and more from its category.
query Player($id: ID!) {
  video(id: $id) {
    id
    title
    description
    videoUrl
    captionUrl
    durationSeconds
    viewCount
    createdAt
    uploadedBy { displayName }
    reactions { total counts { type count } viewerReaction }
    viewerProgress {
      lastPosition
      watchedSeconds
      percentComplete
      completed
    }
    category {
      name
      slug
      videos(first: 8) { edges { node { ...VideoCard } } }
    }
  }
}
"""
    + VIDEO_CARD,
    {"id": HERO_VIDEO_ID},
)

REGISTER = Example(
    """
# A new account and its token. Run it once: the email is
# then taken (CONFLICT), so sign in with Login.
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    token
    user { id displayName role email }
  }
}
""",
    {"input": {"email": DEV_EMAIL, "password": DEV_PASSWORD, "displayName": "Developer"}},
)

LOGIN = Example(
    """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    user { id displayName role }
  }
}
""",
    {"email": DEV_EMAIL, "password": DEV_PASSWORD},
)

SAVE_PROGRESS = Example(
    SIGNED_IN
    + """# The player saves the playhead as it plays; the video
# then shows in Home's continueWatching.
mutation SaveProgress($videoId: ID!, $positionSeconds: Int!) {
  saveProgress(
    input: {videoId: $videoId, positionSeconds: $positionSeconds}
  ) {
    id
    lastPosition
    watchedSeconds
    percentComplete
    completed
    video { id title viewerProgress { lastPosition } }
  }
}
""",
    {"videoId": HERO_VIDEO_ID, "positionSeconds": 120},
)

REACT = Example(
    SIGNED_IN
    + """# Sets or replaces the viewer's one reaction:
# LIKE, LOVE, HAHA, WOW, SAD or ANGRY.
mutation React($videoId: ID!, $type: ReactionType!) {
  react(videoId: $videoId, type: $type) {
    id
    title
    reactions { total counts { type count } viewerReaction }
  }
}
""",
    {"videoId": HERO_VIDEO_ID, "type": "LOVE"},
)

EXAMPLES: tuple[Example, ...] = (HOME, CATEGORY, PLAYER, REGISTER, LOGIN, SAVE_PROGRESS, REACT)
