from __future__ import annotations

from models import VideoCategory
from models.database import current


async def list_visible_categories() -> list[VideoCategory]:
    query = (
        VideoCategory.select()
        .where(VideoCategory.is_active == True)  # noqa: E712
        .order_by(VideoCategory.sort_order, VideoCategory.name)
    )
    return await current().list(query)
