"""Who takes a step on a case: a staff member, the client, the system or an API client.

The timeline records the kind (``case_events.actor_kind``) and, when there is one, the
user (``actor_id``). Services accept a plain ``User`` too, so a person's step is written
as "staff" or "client" by their role; ``None`` means the system (routing, the sweep).
Imports only ``portal``: any room may use it without pulling in the case views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from portal.models import User

STAFF = "staff"
CLIENT = "client"
SYSTEM = "system"
API = "api"
ACTOR_KINDS = (STAFF, CLIENT, SYSTEM, API)


@dataclass(frozen=True)
class Actor:
    """Who acted and, except for the system, which user."""

    kind: str
    user: User | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if self.kind != SYSTEM and self.user is None:
            raise ValueError(f"a {self.kind} actor needs a user")

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(STAFF, user)

    @classmethod
    def client(cls, user: User) -> Actor:
        return cls(CLIENT, user)

    @classmethod
    def system(cls) -> Actor:
        return cls(SYSTEM)

    @classmethod
    def api(cls, user: User) -> Actor:
        return cls(API, user)

    @classmethod
    def of(cls, who: Who) -> Actor:
        """The actor behind a service's ``actor`` argument (a User goes by their role)."""
        if isinstance(who, Actor):
            return who
        if who is None:
            return cls.system()
        return cls.staff(who) if who.is_staff else cls.client(who)

    @property
    def is_system(self) -> bool:
        return self.kind == SYSTEM

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


# What a service's ``actor`` argument accepts; existing callers pass a User.
Who = Union["User", Actor, None]


def user_of(who: Who) -> User | None:
    """The user behind ``who`` (None for the system)."""
    return who.user if isinstance(who, Actor) else who
