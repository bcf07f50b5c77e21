"""Numbers, money and dates as a reader of one language writes them (Babel, CLDR).

``0,045 €`` in French, ``€0.045`` in English: costs keep every significant digit
(Octopush prices SMS in fractions of a cent) but lose float noise. Slack posts keep
their ``<!date^…>`` tokens, which Slack shows in each reader's own time and language;
these date helpers are for the CLI.

Every result post writes its counts, cost and credit, mostly the same few values, and
Babel's formatting of one costs 8-15 µs of CPU (symbol lookups, the currency's
plural name it always computes): texts are kept per value, locale and currency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

#: Octopush bills in the account currency, which is the euro.
DEFAULT_CURRENCY = "EUR"
#: Digits kept after the decimal separator: SMS prices go down to 1/100 of a cent.
_PLACES = 4
#: Texts kept per function: the usual counts and prices of a few languages, with room
#: for credits, which differ at every send and age out.
_KEPT = 1024


def _exact(value: float | int | Decimal) -> Decimal:
    """``value`` rounded to 4 places without float noise or trailing zeros."""
    rounded = Decimal(str(round(float(value), _PLACES)))
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral() else rounded


def format_number(value: float | int | Decimal, locale: Locale) -> str:
    """``1 234,5`` (fr) or ``1,234.5`` (en): grouping and decimal sign of ``locale``."""
    return _number(str(_exact(value)), locale)


def format_fixed(value: float | int | Decimal, locale: Locale, places: int) -> str:
    """``3,50`` (fr) or ``3.50`` (en): exactly ``places`` decimals, rounded."""
    # Babel reads a float through str() too; the text keeps -0 apart from 0.
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return _fixed(str(exact), locale, places)


def format_money(
    value: float | int | Decimal,
    locale: Locale,
    currency: str = DEFAULT_CURRENCY,
) -> str:
    """``0,045 €`` (fr) or ``€0.045`` (en); at least the currency's usual 2 decimals."""
    return _money(str(_exact(value)), locale, currency)


# The caches are keyed by the decimal's text, not the number: 0 and -0 are equal
# numbers but Babel writes ``-0``, and equal keys must give the same text.


@lru_cache(maxsize=_KEPT)
def _number(text: str, locale: Locale) -> str:
    return format_decimal(Decimal(text), locale=locale, decimal_quantization=False)


@lru_cache(maxsize=_KEPT)
def _fixed(text: str, locale: Locale, places: int) -> str:
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return format_decimal(Decimal(text), format=pattern, locale=locale)


@lru_cache(maxsize=_KEPT)
def _money(text: str, locale: Locale, currency: str) -> str:
    return format_currency(
        Decimal(text), currency, locale=locale, decimal_quantization=False
    )


def format_when(when: datetime, locale: Locale) -> str:
    """A date and time in ``locale``'s medium format, in UTC (naive counts as UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return format_datetime(aware, format="medium", tzinfo=UTC, locale=locale)
