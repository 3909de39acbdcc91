from __future__ import annotations

import peewee

from models.base import BaseModel, DateTimeMicroField, TimestampedModel, utcnow

ROLES = ("member", "admin")


class User(TimestampedModel):
    id = peewee.AutoField()
    email = peewee.CharField(max_length=254, unique=True)
    password_hash = peewee.CharField(max_length=255)
    display_name = peewee.CharField(max_length=100)
    # The migration adds a case-sensitive CHECK for ROLES.
    role = peewee.CharField(max_length=10, default="member")

    class Meta:
        table_name = "users"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class AccessToken(BaseModel):
    """A bearer token: the client holds a random secret, we keep only its keyed hash.

    Deleting the row revokes the token at once.
    """

    id = peewee.BigAutoField()
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="tokens")
    token_hash = peewee.CharField(max_length=64, unique=True)
    created_at = DateTimeMicroField(default=utcnow)
    expires_at = DateTimeMicroField(index=True)

    class Meta:
        table_name = "access_tokens"
