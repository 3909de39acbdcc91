"""Peewee models, one module per domain. Migrations freeze their own copies."""

from models.accounts import ROLES, AccessToken, User
from models.base import BaseModel, utcnow
from models.categories import VideoCategory
from models.progress import VideoProgress
from models.reactions import REACTION_TYPES, VideoReaction
from models.videos import Video

# Dependency order: parents before children.
ALL_MODELS = (User, VideoCategory, Video, VideoProgress, VideoReaction, AccessToken)

__all__ = [
    "ALL_MODELS",
    "REACTION_TYPES",
    "ROLES",
    "AccessToken",
    "BaseModel",
    "User",
    "Video",
    "VideoCategory",
    "VideoProgress",
    "VideoReaction",
    "utcnow",
]
