"""Argon2id password hashing. Hashing is slow on purpose, so the server runs it in a thread."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's "low memory" Argon2id profile.
_hasher = PasswordHasher()

# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("videolib-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the hasher now uses."""
    return bool(_hasher.check_needs_rehash(password_hash))


# Its own small pool: each hash takes tens of MiB and all of a core, so a burst of sign-ins queues
# here instead of filling the default executor (and memory) that everything else shares.
_HASHING = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="argon2")


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _HASHING, verify_password, password_hash, password
    )
