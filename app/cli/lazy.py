"""A click group whose real commands are imported only when it is run."""

from __future__ import annotations

from collections.abc import Callable

import click


class LazyGroup(click.Group):
    """Listed under `flask --help` with its one-line help; `load()` returns the real group,
    imported at the moment the group is invoked (not at every start of the app)."""

    def __init__(self, name: str, load: Callable[[], click.Command], help: str) -> None:
        super().__init__(name, help=help)
        self._load = load

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # The parent group invokes whatever command the returned context names: the real one.
        return self._load().make_context(info_name, args, parent=parent, **extra)
