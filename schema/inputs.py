"""Reading update inputs: which fields the client gave."""

from __future__ import annotations

from strawberry import UNSET

from resolvers.curation import Fields


def given_fields(input: object) -> Fields:
    """The fields of an input the client set, explicit nulls included; UNSET (absent) ones left out."""
    return {name: value for name, value in vars(input).items() if value is not UNSET}
