"""Recipient tokens to E.164 numbers: names and mentions first, then phone numbers.

Part of the message rules (:mod:`bot.sending.rules`), apart because it is their largest:
every bad token is reported at once, each problem still translatable (:mod:`bot.i18n`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.errors import InputError
from bot.i18n import N_, joined
from bot.phones import example_number, looks_like_phone, parse_phone, write_as

#: Looks up a name or mention token: its numbers (E.164 or as typed), or ``None`` when
#: the token is not a known name (it is then parsed as a phone number). May raise
#: ``InputError`` itself, e.g. for a Slack user with no phone in their profile.
Resolver = Callable[[str], Sequence[str] | None]


def quoted(tokens: Sequence[str]) -> str:
    """``'abc', '12'``: each token quoted the reader's way (« abc » in French)."""
    return joined([N_("'%(token)s'", token=token) for token in tokens], ", ")


def resolve_recipients(
    tokens: Sequence[str],
    *,
    region: str,
    resolve: Resolver | None = None,
) -> tuple[str, ...]:
    """Turn recipient tokens into distinct E.164 numbers, in the order given.

    Each token goes to ``resolve`` first (names, mentions); when it returns ``None``,
    or there is no resolver, the token is parsed as a phone number in ``region``.

    Raises:
        InputError: on ``recipients``, listing every bad token at once.
    """
    numbers: dict[str, None] = {}
    bad: list[str] = []  # tokens that are neither known names nor phone numbers
    bad_messages: list[str] = []
    problems: list[str] = []  # the rest, e.g. a directory entry with a bad number
    for raw in tokens:
        token = raw.strip()
        if not token:
            continue
        found: Sequence[str] | None = None
        if resolve is not None:
            try:
                found = resolve(token)
            except InputError as error:
                problems.extend(error.problems.values())
                continue
        if found is None:
            try:
                numbers[parse_phone(token, region)] = None
            except InputError as error:
                bad.append(token)
                if resolve is not None and not looks_like_phone(token):
                    bad_messages.append(
                        N_(
                            "'%(token)s' is not a phone number or a known name; "
                            "write numbers %(write_as)s",
                            token=token,
                            write_as=write_as(region),
                        )
                    )
                else:
                    bad_messages.append(error.problems["recipients"])
            continue
        if isinstance(found, str):
            found = (found,)
        if not found:
            problems.append(
                N_("'%(token)s' has no phone number to send to", token=token)
            )
        for number in found:
            try:
                numbers[parse_phone(number, region)] = None
            except InputError:
                problems.append(
                    N_(
                        "'%(token)s' has the number '%(number)s', which is not valid",
                        token=token,
                        number=number,
                    )
                )
    if len(bad) > 1:
        bad_messages = [
            N_(
                "Not phone numbers: %(tokens)s; write numbers %(write_as)s",
                tokens=quoted(bad),
                write_as=write_as(region),
            )
        ]
    if bad_messages or problems:
        raise InputError("recipients", joined([*bad_messages, *problems]))
    if not numbers:
        raise InputError(
            "recipients",
            N_(
                "Give at least one recipient, such as %(example)s",
                example=example_number(region),
            ),
        )
    return tuple(numbers)
