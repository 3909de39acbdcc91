from __future__ import annotations

from tests.factories import gid


def test_home_screen_basics(client, factory) -> None:
    admin = factory.admin()
    viewer = factory.user()
    cat = factory.category("Nature")
    video = factory.video(cat, admin, title="Wolves", views=5)
    factory.reaction(viewer, video, "love")
    factory.progress(viewer, video, 30)
    token = factory.token(viewer)
    data = client.data(
        """{ me { id email } continueWatching { lastPosition video { title viewerProgress { lastPosition } } }
        categories { slug videoCount videos { totalCount edges { node { id title uploadedBy { displayName email }
        reactions { total viewerReaction counts { type count } } } } } } }""",
        token=token,
    )
    assert data["me"] == {"id": gid("User", viewer), "email": viewer.email}
    assert data["continueWatching"] == [
        {"lastPosition": 30, "video": {"title": "Wolves", "viewerProgress": {"lastPosition": 30}}}
    ]
    [category] = data["categories"]
    assert category["videoCount"] == 1
    node = category["videos"]["edges"][0]["node"]
    assert node["id"] == gid("Video", video)
    assert node["uploadedBy"] == {"displayName": admin.display_name, "email": None}
    assert node["reactions"]["total"] == 1
    assert node["reactions"]["viewerReaction"] == "LOVE"
    assert [c["count"] for c in node["reactions"]["counts"]] == [0, 1, 0, 0, 0, 0]
