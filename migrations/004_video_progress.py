"""video_progress: one row per user and video, removed with either.

Frozen: never import models/ here.
"""

from peewee import (
    SQL,
    BigAutoField,
    BooleanField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    MySQLDatabase,
)


class DateTime6(DateTimeField):
    def get_modifiers(self):
        return [6]


def _now(db):
    # A database-side default, for tools outside the server that insert rows.
    if isinstance(db, MySQLDatabase):
        return SQL("DEFAULT CURRENT_TIMESTAMP(6)")
    return SQL("DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def _models(db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Video(Model):
        class Meta:
            database = db
            table_name = "videos"

    class VideoProgress(Model):
        # BIGINT: on MySQL every upsert may use up an auto-increment value.
        id = BigAutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        video = ForeignKeyField(Video, on_delete="CASCADE")
        watched_seconds = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
        duration_seconds = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
        last_position = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
        completed = BooleanField(default=False, constraints=[SQL("DEFAULT 0")])
        created_at = DateTime6(constraints=[_now(db)])
        updated_at = DateTime6(constraints=[_now(db)])

        class Meta:
            database = db
            table_name = "video_progress"
            indexes = (
                (("user_id", "video_id"), True),
                (("user_id", "completed", "updated_at"), False),
            )

    return [VideoProgress]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
