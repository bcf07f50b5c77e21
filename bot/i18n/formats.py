"""Numbers, money and dates as a reader of one language writes them (Babel, CLDR).

``0,045 €`` in French, ``€0.045`` in English: costs keep every significant digit
(Octopush prices SMS in fractions of a cent) but lose float noise. Slack posts keep
their ``<!date^…>`` tokens, which Slack shows in each reader's own time and language;
these date helpers are for the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

#: Octopush bills in the account currency, which is the euro.
DEFAULT_CURRENCY = "EUR"
#: Digits kept after the decimal separator: SMS prices go down to 1/100 of a cent.
_PLACES = 4


def _exact(value: float | int | Decimal) -> Decimal:
    """``value`` rounded to 4 places without float noise or trailing zeros."""
    rounded = Decimal(str(round(float(value), _PLACES)))
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral() else rounded


def format_number(value: float | int | Decimal, locale: Locale) -> str:
    """``1 234,5`` (fr) or ``1,234.5`` (en): grouping and decimal sign of ``locale``."""
    return format_decimal(_exact(value), locale=locale, decimal_quantization=False)


def format_fixed(value: float | int | Decimal, locale: Locale, places: int) -> str:
    """``3,50`` (fr) or ``3.50`` (en): exactly ``places`` decimals, rounded."""
    pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
    return format_decimal(value, format=pattern, locale=locale)


def format_money(
    value: float | int | Decimal,
    locale: Locale,
    currency: str = DEFAULT_CURRENCY,
) -> str:
    """``0,045 €`` (fr) or ``€0.045`` (en); at least the currency's usual 2 decimals."""
    return format_currency(
        _exact(value), currency, locale=locale, decimal_quantization=False
    )


def format_when(when: datetime, locale: Locale) -> str:
    """A date and time in ``locale``'s medium format, in UTC (naive counts as UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return format_datetime(aware, format="medium", tzinfo=UTC, locale=locale)
