"""List pages as people expect them (MOJ "filter a list" and "sortable table"): a request with
empty parameters is redirected to the same list without them (shareable, readable links), the
chosen filters show as removable tags, and column headers sort the list on the server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask import redirect, request, url_for
from werkzeug.wrappers import Response


def without_empty_parameters() -> Response | None:
    """A redirect to this GET without its empty parameters, or None when there are none."""
    if request.method != "GET" or not any(v == "" for v in request.args.values()):
        return None
    kept = [(k, v) for k, v in request.args.items(multi=True) if v != ""]
    args: dict[str, Any] = {}
    for key, value in kept:
        args.setdefault(key, []).append(value)
    assert request.endpoint is not None  # a matched GET route
    return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))


class ListFilters(Protocol):
    """What the list pages' filter classes share: a sort and query-string arguments."""

    @property
    def sort(self) -> str: ...

    def to_args(self, **changes: object) -> dict[str, str]: ...


@dataclass(frozen=True)
class SortHeader:
    """A sortable column header (MOJ sortable table): a link that sorts the list by the column,
    ascending first, descending on a second click; `aria_sort` says how it is sorted now."""

    label: str
    url: str
    aria_sort: str  # ascending | descending | none
    click_sorts: str  # what a click does, in words, for screen readers


def sort_headers(
    endpoint: str, filters: ListFilters, columns: Mapping[str, str]
) -> dict[str, SortHeader]:
    """A header per sortable column; the links keep the filters and go back to page 1."""
    headers = {}
    for column, label in columns.items():
        if filters.sort == column:
            aria, then = "ascending", f"-{column}"
        elif filters.sort == f"-{column}":
            aria, then = "descending", column
        else:
            aria, then = "none", column
        args: dict[str, Any] = filters.to_args(sort=then)
        url = url_for(endpoint, **args)
        words = "descending" if then.startswith("-") else "ascending"
        headers[column] = SortHeader(label, url, aria, f"sort {words}")
    return headers


@dataclass(frozen=True)
class FilterTag:
    """A chosen filter shown as a removable tag (MOJ filter a list): a link to the same list
    without that one filter."""

    label: str
    url: str


def filter_tags(
    endpoint: str, filters: ListFilters, chosen: Iterable[tuple[str, str]]
) -> list[FilterTag]:
    """Tags for the chosen filters, given as (field, label); the sort is kept, the page not."""
    tags = []
    for field, label in chosen:
        args: dict[str, Any] = filters.to_args(**{field: None})
        tags.append(FilterTag(label, url_for(endpoint, **args)))
    return tags
