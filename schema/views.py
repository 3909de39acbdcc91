"""Counting plays (recordView)."""

from __future__ import annotations
