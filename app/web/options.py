"""The rep menus' <option> elements, built in Python: a menu lists every rep (500 at ten times
the programme), and a Jinja loop over them cost more than the rest of the case list."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from markupsafe import Markup, escape

from app.queries.case_list import RepChoice
from app.rules.vocabulary import UserRole


@lru_cache(maxsize=32)
def _options(users: tuple[RepChoice, ...]) -> tuple[tuple[int, str, str], ...]:
    """(id, opening, rest) of each option, escaped; the same list of reps is built once."""
    built = []
    for user in users:
        label = user.name
        if user.role == UserRole.PROGRAMME:
            label += " (programme team)"
        if user.region:
            label += f" · {user.region}"
        built.append((user.id, f'<option value="{user.id}"', f">{escape(label)}</option>"))
    return tuple(built)


def rep_options(users: Iterable[RepChoice], selected_id: int | None) -> Markup:
    """One <option> per user, `selected_id`'s marked selected."""
    return Markup(
        "\n".join(
            f"{start}{' selected' if uid == selected_id else ''}{rest}"
            for uid, start, rest in _options(tuple(users))
        )
    )


@lru_cache(maxsize=32)
def _pairs(pairs: tuple[tuple[object, str], ...]) -> tuple[tuple[object, str, str], ...]:
    return tuple(
        (value, f'<option value="{escape(value)}"', f">{escape(label)}</option>")
        for value, label in pairs
    )


def select_options(pairs: Iterable[tuple[object, str]], selected: object) -> Markup:
    """One <option> per (value, label) pair, the one whose value is `selected` marked."""
    return Markup(
        "\n".join(
            f"{start}{' selected' if value == selected else ''}{rest}"
            for value, start, rest in _pairs(tuple(pairs))
        )
    )
