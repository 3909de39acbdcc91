"""saveProgress over any sequence of positions, on both backends, against a model of the rules:

- a negative position is refused (BAD_USER_INPUT) and changes nothing;
- lastPosition is the position clamped to [0, duration];
- watchedSeconds is the furthest clamped position so far: it never decreases;
- completed is set once watchedSeconds reaches 90% of the duration, and stays set;
- it is always the same row, and the database holds what the answer says.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import VideoProgress
from tests.factories import gid

SAVE = """
mutation ($input: SaveProgressInput!) {
  saveProgress(input: $input) {
    id watchedSeconds durationSeconds lastPosition completed percentComplete
    video { viewerProgress { id watchedSeconds lastPosition completed } }
  }
}"""


def row_of(factory: Any, user: Any, video: Any) -> VideoProgress | None:
    with factory.bound():
        return VideoProgress.get_or_none((VideoProgress.user == user.id) & (VideoProgress.video == video.id))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    duration=st.integers(min_value=1, max_value=300),
    positions=st.lists(st.integers(min_value=-400, max_value=400), min_size=1, max_size=10),
)
def test_progress_follows_the_rules_for_any_positions(
    client: Any, factory: Any, duration: int, positions: list[int]
) -> None:
    # Function-scoped fixtures are shared by every example: each example starts from no row.
    admin = factory.admin()
    user = factory.user()
    token = factory.token(user)
    video = factory.video(factory.category(), admin, duration=duration)
    with factory.bound():
        VideoProgress.delete().where(VideoProgress.user == user.id).execute()
    threshold = -(-duration * 9 // 10)  # ceil(0.9 * duration)

    watched, completed, row_id = 0, False, None
    for position in positions:
        before = row_of(factory, user, video)
        variables = {"input": {"videoId": gid("Video", video), "positionSeconds": position}}
        if position < 0:
            error = client.error(SAVE, variables, token=token)
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            after = row_of(factory, user, video)
            assert (after and after.__data__) == (before and before.__data__)
            continue

        answer = client.data(SAVE, variables, token=token)["saveProgress"]
        clamped = min(position, duration)
        assert answer["watchedSeconds"] >= watched  # never decreases
        watched = max(watched, clamped)
        completed = completed or watched >= threshold  # sticky
        assert answer["lastPosition"] == clamped
        assert 0 <= answer["lastPosition"] <= duration
        assert answer["watchedSeconds"] == watched
        assert answer["completed"] is completed
        assert answer["durationSeconds"] == duration
        assert 0.0 <= answer["percentComplete"] <= 1.0
        assert answer["video"]["viewerProgress"] == {
            "id": answer["id"],
            "watchedSeconds": watched,
            "lastPosition": clamped,
            "completed": completed,
        }
        row_id = row_id or answer["id"]
        assert answer["id"] == row_id

        row = row_of(factory, user, video)
        assert row is not None
        assert gid("VideoProgress", row) == row_id
        assert (row.watched_seconds, row.last_position, row.completed, row.duration_seconds) == (
            watched,
            clamped,
            completed,
            duration,
        )
