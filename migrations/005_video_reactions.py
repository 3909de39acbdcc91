"""video_reactions: one reaction per user and video, removed with either.

Frozen: never import models/ here.
"""

from peewee import (
    SQL,
    BigAutoField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
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


def _one_of(db, column, values):
    # MySQL compares with the column's case-insensitive collation unless told otherwise.
    subject = f"BINARY {column}" if isinstance(db, MySQLDatabase) else column
    return Check(f"{subject} IN ({', '.join(repr(v) for v in values)})")


def _models(db):
    class User(Model):
        class Meta:
            database = db
            table_name = "users"

    class Video(Model):
        class Meta:
            database = db
            table_name = "videos"

    class VideoReaction(Model):
        id = BigAutoField()
        user = ForeignKeyField(User, on_delete="CASCADE")
        video = ForeignKeyField(Video, on_delete="CASCADE")
        reaction_type = CharField(
            max_length=10,
            constraints=[_one_of(db, "reaction_type", ("like", "love", "haha", "wow", "sad", "angry"))],
        )
        created_at = DateTime6(constraints=[_now(db)])
        updated_at = DateTime6(constraints=[_now(db)])

        class Meta:
            database = db
            table_name = "video_reactions"
            indexes = (
                (("user_id", "video_id"), True),
                (("video_id", "reaction_type"), False),
            )

    return [VideoReaction]


def up(migrator, db):
    db.create_tables(_models(db), safe=False)


def down(migrator, db):
    db.drop_tables(_models(db), safe=False)
