"""The demo catalogue behind `videolib seed-demo`: categories, videos (one category more than a
page long), and demo viewers' reactions and progress. Running it twice changes nothing."""

from __future__ import annotations

import datetime as dt

import peewee

from models.accounts import User
from models.base import utcnow
from models.categories import VideoCategory
from models.progress import VideoProgress
from models.reactions import VideoReaction
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

# More of nature, so that its row and its page hold more than one page (25 on the home screen of
# the README, 20 on its category page, 10 in GraphiQL) and every example's cursor leads somewhere.
# Listed after the hero, so a fresh database gives the hero the ID the README shows (Video:35),
# but dated before every video above, so NEWEST still opens on the hero.
MORE_NATURE = [
    ("Hummingbirds in Slow Motion", 1120, 27400, "Eighty wingbeats a second, filmed at 1,000 frames."),
    ("The Kelp Forest", 1860, 19230, "Otters, urchins and the balance between them."),
    ("Elephants Remember", 2640, 35110, "Three generations of one Amboseli family."),
    ("Life in a Rotting Log", 780, 8320, "Fungi, beetles and the slow work of decay."),
    ("Mountain Gorillas", 2480, 40210, "A season with the Virunga families."),
    ("The Salmon Run", 1540, 16780, "Upstream, against the current, to where they began."),
    ("Fireflies of the Smoky Mountains", 960, 21090, "Synchronous flashing on June nights."),
    ("Penguins of South Georgia", 2150, 29950, None),
    ("The Desert Blooms", 1310, 13440, "The Atacama after a rare rain."),
    ("Night Shift: Bats", 1420, 11870, "Echolocation, heard through ultrasound recordings."),
    ("Jellyfish Drift", 690, 7210, "Ten quiet minutes in the open ocean."),
    ("Snow Leopards of Ladakh", 2870, 45630, "Camera traps at 4,500 metres."),
    ("The Beaver's Dam", 1250, 10980, "How one family engineers a valley."),
    ("Monarch Migration", 1690, 24310, "Canada to Mexico, over four generations."),
    ("Meerkat Sentries", 1080, 18660, "Who keeps watch over the burrow, and why."),
    ("The Living Rainforest Canopy", 2320, 22470, "Forty metres up, where most of the life is."),
    ("Octopus Minds", 1980, 38740, "Problem solving without a backbone."),
    ("Wild Horses of Mongolia", 2210, 14520, None),
    ("Ants: The Superorganism", 1370, 12690, "A colony that acts as one."),
    ("Puffin Island", 890, 9540, "A summer on the cliffs of Skomer."),
    ("The Frozen Lake", 1600, 15210, "What lives under the ice all winter."),
    ("Crocodiles of the Nile", 2030, 26880, "The oldest hunters on the river."),
    ("Bees and the Almond Bloom", 1190, 11230, "Pollination on an industrial scale."),
    ("Mangroves at High Tide", 1460, 9980, "Nurseries between the land and the sea."),
    ("Humpback Song", 1750, 30550, "Recording the whales off Tonga."),
    ("Wolves Return to the Alps", 2390, 20120, "A predator's comeback, valley by valley."),
]
VIDEOS += [("nature", title, duration, views, True, about) for title, duration, views, about in MORE_NATURE]

HERO_TITLE = "The Great Migration"

# Viewers whose reactions and progress make the counts on every screen real. Like the uploader,
# they cannot log in.
DEMO_VIEWERS = [
    ("mara@videolib.example", "Mara"),
    ("tomas@videolib.example", "Tomás"),
    ("aiko@videolib.example", "Aiko"),
    ("priya@videolib.example", "Priya"),
    ("sam@videolib.example", "Sam"),
    ("leon@videolib.example", "Léon"),
]
# Weighted as real audiences react: mostly likes and loves.
REACTION_CYCLE = ("like", "love", "like", "wow", "haha", "love", "like", "sad", "angry")
PROGRESS_PER_VIEWER = 3


def _slugify(title: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return "-".join(part for part in out.split("-") if part)


def seed(db: peewee.Database) -> dict[str, int]:
    """Insert whatever of the demo catalogue is missing; returns how many rows were added."""
    added = {"users": 0, "categories": 0, "videos": 0, "reactions": 0, "progress": 0}
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
        # Spread creation times over the past weeks so NEWEST has a believable order; the extra
        # nature videos come before all the others.
        originals = len(VIDEOS) - len(MORE_NATURE)
        start = utcnow() - dt.timedelta(days=originals)
        for n, (slug, title, duration, views, published, description) in enumerate(VIDEOS):
            if title in existing:
                continue
            age = n if n < originals else n - len(VIDEOS)  # days after start
            created = start + dt.timedelta(days=age, minutes=n * 7)
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

        viewers: list[User] = []
        for email, name in DEMO_VIEWERS:
            viewer = User.get_or_none(User.email == email)
            if viewer is None:
                viewer = User.create(
                    email=email, password_hash=UNUSABLE_PASSWORD, display_name=name, role="member"
                )
                added["users"] += 1
            viewers.append(viewer)
        added["reactions"], added["progress"] = _viewer_activity(viewers)
    return added


def _viewer_activity(viewers: list[User]) -> tuple[int, int]:
    """The demo viewers' reactions and progress on the published videos of active categories,
    written for (viewer, video) pairs that have none, so later changes stay as they are. Returns
    how many reactions and progress rows were added."""
    active = {slug for slug, _name, _order, is_active in CATEGORIES if is_active}
    titles = [title for slug, title, _dur, _views, shown, _about in VIDEOS if shown and slug in active]
    found = {
        video.title: video
        for video in Video.select(Video.id, Video.title, Video.duration_seconds).where(
            Video.title.in_(titles) & (Video.published == True)  # noqa: E712
        )
    }
    videos = [found[title] for title in titles if title in found]  # the list's order, whatever the ids
    if not videos:
        return 0, 0
    ids = [viewer.id for viewer in viewers]
    reactions_of = VideoReaction.select(VideoReaction.user, VideoReaction.video)
    progress_of = VideoProgress.select(VideoProgress.user, VideoProgress.video)
    reacted = {(r.user_id, r.video_id) for r in reactions_of.where(VideoReaction.user.in_(ids))}
    watched = {(p.user_id, p.video_id) for p in progress_of.where(VideoProgress.user.in_(ids))}
    now = utcnow()
    reactions: list[dict[str, object]] = []
    progress: list[dict[str, object]] = []
    for v, viewer in enumerate(viewers):
        # Every viewer reacts to the hero (the player example shows its counts), and each to a
        # third of the rest.
        for j, video in enumerate(videos):
            if (video.title == HERO_TITLE or (j + v) % 3 == 0) and (viewer.id, video.id) not in reacted:
                kind = REACTION_CYCLE[(2 * j + v) % len(REACTION_CYCLE)]
                row = {"user": viewer.id, "video": video.id, "reaction_type": kind}
                reactions.append({**row, "created_at": now, "updated_at": now})
        # A few videos each: some part-way (as "continue watching" shows them), the last one finished.
        for k in range(PROGRESS_PER_VIEWER):
            video = videos[(7 * v + 5 * k) % len(videos)]
            if (viewer.id, video.id) in watched:
                continue
            duration = int(video.duration_seconds)
            completed = k == PROGRESS_PER_VIEWER - 1
            position = duration if completed else duration * (1 + k + v % 3) // 8
            progress.append(
                {
                    "user": viewer.id,
                    "video": video.id,
                    "watched_seconds": position,
                    "duration_seconds": duration,
                    "last_position": position,
                    "completed": completed,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            watched.add((viewer.id, video.id))
    for batch in peewee.chunked(reactions, 100):
        VideoReaction.insert_many(batch).execute()
    for batch in peewee.chunked(progress, 100):
        VideoProgress.insert_many(batch).execute()
    return len(reactions), len(progress)
