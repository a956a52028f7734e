"""Jinja2 for the pages: one environment per language (autoescape on, the i18n extension
with that language's catalog, Babel's money and date filters)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from app.donors.models import ANONYMOUS_DONOR
from app.pages import i18n


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("app.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() per page
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        money=lambda value, currency: i18n.money(value, currency, language),
        number=lambda value: i18n.number(value, language),
        percent=lambda value: i18n.percent(value, language),
        day=lambda value: i18n.day(value, language),
        moment=lambda value: i18n.moment(value, language),
    )
    env.globals["lang"] = language
    # The public API's name for an anonymous donor, shown in the reader's language.
    env.globals["ANONYMOUS_DONOR"] = ANONYMOUS_DONOR
    return env


def render(language: str, template: str, **context: Any) -> str:
    return environment(language).get_template(template).render(**context)
