"""The demo catalogue behind `videolib seed-demo`. Running it twice changes nothing."""

from __future__ import annotations

import datetime as dt

import peewee

from models.accounts import User
from models.base import utcnow
from models.categories import VideoCategory
from models.videos import Video

DEMO_UPLOADER = ("studio@videolib.example", "VideoLib Studio")
# Not an argon2 hash, so no password ever matches it: the demo account cannot log in.
UNUSABLE_PASSWORD = "!unusable"

CDN = "https://media.videolib.example"

# (slug, name, sort_order, is_active)
CATEGORIES = [
    ("nature", "Nature & Wildlife", 10, True),
    ("science", "Science Explained", 20, True),
    ("cooking", "Cooking", 30, True),
    ("travel", "Travel", 40, True),
    ("tech", "Tech Talks", 50, True),
    ("archive", "From the Archive", 90, False),
]

# (category slug, title, duration seconds, views, published, description)
VIDEOS = [
    ("nature", "Wolves of Yellowstone", 2710, 48210, True, "A year with the Lamar Valley pack."),
    ("nature", "The Secret Life of Coral", 1930, 31544, True, "Night dives on the Great Barrier Reef."),
    ("nature", "Monsoon: India's Wild Season", 3120, 22890, True, None),
    ("nature", "Owls After Dark", 1485, 18021, True, "Thermal cameras follow a barn owl family."),
    ("nature", "Tidepools", 960, 9412, True, "Five minutes of low tide, slowed down."),
    ("nature", "Arctic Foxes, Uncut", 2200, 0, False, "Draft: colour grading pending."),
    ("science", "How Black Holes Evaporate", 1260, 67012, True, "Hawking radiation without the maths."),
    ("science", "The Chemistry of Bread", 840, 12845, True, "Gluten, yeast and the Maillard reaction."),
    ("science", "Why the Sky Is Blue", 540, 88120, True, "Rayleigh scattering in nine minutes."),
    ("science", "CRISPR in Plain Words", 1380, 25004, True, None),
    ("science", "A Brief History of Timekeeping", 1990, 14377, True, "Sundials to caesium clocks."),
    ("science", "Quantum Dots, Explained", 1100, 0, False, "Draft: awaiting fact check."),
    ("cooking", "Perfect Neapolitan Pizza at Home", 1420, 53310, True, "A 48-hour dough."),
    ("cooking", "Knife Skills 101", 780, 41200, True, "Julienne, brunoise, chiffonade."),
    ("cooking", "Ramen From Scratch", 2460, 38760, True, "Tonkotsu broth, tare and noodles."),
    ("cooking", "Weeknight Curries", 1320, 21055, True, None),
    ("cooking", "The Sourdough Starter Diaries", 1810, 17340, True, "Feeding schedules that work."),
    ("cooking", "French Pastry Basics", 2050, 15008, True, "Pâte à choux, crème pâtissière."),
    ("travel", "48 Hours in Lisbon", 1530, 29870, True, "Trams, tiles and pastéis de nata."),
    ("travel", "Trans-Siberian Diaries", 3480, 19544, True, "Moscow to Vladivostok by rail."),
    ("travel", "Hidden Kyoto", 1745, 33215, True, "Temples before the crowds arrive."),
    ("travel", "Patagonia on Foot", 2890, 12770, True, None),
    ("travel", "Street Food of Mexico City", 1645, 44102, True, "Tacos al pastor at 2 a.m."),
    ("tech", "Rust for Python Developers", 2940, 36022, True, "Ownership without tears."),
    ("tech", "How GPUs Actually Work", 2210, 51877, True, "From shaders to tensor cores."),
    ("tech", "Designing GraphQL APIs", 2575, 20410, True, "Connections, cursors and errors."),
    ("tech", "SQL Indexes in Depth", 1965, 27654, True, "B-trees, covering indexes, EXPLAIN."),
    ("tech", "The Internet Under the Sea", 1480, 23999, True, "Submarine cables and who owns them."),
    ("tech", "Home Lab on a Budget", 1700, 9870, True, None),
    ("tech", "Keynote Rehearsal (internal)", 3600, 0, False, "Draft: not for release."),
    ("archive", "Early Moon Landing Footage", 1800, 70211, True, "Restored from 16 mm reels."),
    ("archive", "1950s Kitchen of Tomorrow", 660, 8120, True, None),
    ("science", "The Speed of Light, Measured", 1215, 30117, True, "Fizeau's toothed wheel."),
    ("travel", "Iceland's Ring Road", 2330, 26544, True, "Waterfalls, glaciers, black sand."),
    ("nature", "The Great Migration", 2990, 61233, True, "Two million wildebeest cross the Mara."),
]

HERO_TITLE = "The Great Migration"


def _slugify(title: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return "-".join(part for part in out.split("-") if part)


def seed(db: peewee.Database) -> dict[str, int]:
    """Insert whatever of the demo catalogue is missing; returns how many rows were added."""
    added = {"users": 0, "categories": 0, "videos": 0}
    with db.atomic():
        uploader = User.get_or_none(User.email == DEMO_UPLOADER[0])
        if uploader is None:
            uploader = User.create(
                email=DEMO_UPLOADER[0],
                password_hash=UNUSABLE_PASSWORD,
                display_name=DEMO_UPLOADER[1],
                role="admin",
            )
            added["users"] += 1

        categories: dict[str, VideoCategory] = {}
        for slug, name, sort_order, is_active in CATEGORIES:
            category = VideoCategory.get_or_none(VideoCategory.slug == slug)
            if category is None:
                category = VideoCategory.create(
                    slug=slug, name=name, sort_order=sort_order, is_active=is_active
                )
                added["categories"] += 1
            categories[slug] = category

        existing = {video.title for video in Video.select(Video.title)}
        # Spread creation times over the past weeks so NEWEST has a believable order.
        start = utcnow() - dt.timedelta(days=len(VIDEOS))
        for n, (slug, title, duration, views, published, description) in enumerate(VIDEOS):
            if title in existing:
                continue
            created = start + dt.timedelta(days=n, minutes=n * 7)
            file = _slugify(title)
            Video.create(
                title=title,
                description=description,
                category=categories[slug],
                video_url=f"{CDN}/videos/{file}.mp4",
                thumbnail_url=f"{CDN}/thumbs/{file}.jpg",
                caption_url=f"{CDN}/captions/{file}.en.vtt" if n % 3 == 0 else None,
                duration_seconds=duration,
                view_count=views,
                published=published,
                is_hero=False,
                uploaded_by=uploader,
                created_at=created,
                updated_at=created,
            )
            added["videos"] += 1

        # One hero, unless an admin has already chosen one.
        if not Video.select().where(Video.is_hero == True).exists():  # noqa: E712
            Video.update(is_hero=True).where(Video.title == HERO_TITLE).execute()
    return added
