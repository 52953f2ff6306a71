"""platform_config/list_prices.json: every price the upstream tables do not carry names the AWS page it was read
from, its unit and the dates it stands for, and every assumption says why; the build cannot re-read the pages, so a
row without them could never be checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from platform_checks import pricing

# AWS publishes its list prices on its own site (the region's figure on the service's pricing page).
AWS_PRICING_PAGE = "https://aws.amazon.com/"


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def problems(data: Mapping[str, Any], as_of: str) -> dict[str, str]:
    """What each row lacks. The file's rule ('about'): 'as_of' is the date of the price data the plan defaults to;
    'effective', where AWS announced one, is when the price came into force, so never after the data quoting it."""
    found = {}
    for key, row in data["prices"].items():
        if not str(row.get("source", "")).startswith(AWS_PRICING_PAGE):
            found[key] = f"source {row.get('source')!r} is not an AWS page"
        elif not row.get("unit") or _amount(str(row.get("price"))) is None:
            found[key] = f"price {row.get('price')!r} per {row.get('unit')!r}: accepted is a number >= 0 and a unit"
        elif row.get("as_of") != as_of:
            found[key] = f"as_of {row.get('as_of')!r}: accepted is the price data's date {as_of}"
        elif row.get("effective") and (_date(row["effective"]) is None or row["effective"] > as_of):
            found[key] = f"effective {row['effective']!r}: accepted is empty or an ISO date no later than {as_of}"
    for key, row in data["assumptions"].items():
        if _amount(str(row.get("value"))) is None or not row.get("why"):
            found[f"assumption {key}"] = "accepted is a value >= 0 and a reason"
    return found


def test_every_list_price_names_its_aws_page_unit_and_dates_and_every_assumption_says_why() -> None:
    data = pricing.list_prices()
    assert data["prices"] and data["assumptions"]
    assert problems(data, pricing.price_date()) == {}


def test_a_row_without_a_source_or_with_a_later_or_missing_date_is_named() -> None:
    good = {"price": "0.10", "unit": "hour", "source": AWS_PRICING_PAGE + "x/pricing/", "as_of": "2026-01-02"}
    bad = {
        "prices": {
            "ok": {**good, "effective": "2020-01-01"},
            "no-source": {**good, "source": ""},
            "elsewhere": {**good, "source": "https://example.com/pricing"},
            "no-unit": {**good, "unit": ""},
            "negative": {**good, "price": "-1"},
            "undated": {**good, "as_of": ""},
            "future": {**good, "effective": "2026-01-03"},
        },
        "assumptions": {"no-why": {"value": "1", "why": ""}},
    }
    assert set(problems(bad, "2026-01-02")) == set(bad["prices"]) - {"ok"} | {"assumption no-why"}
