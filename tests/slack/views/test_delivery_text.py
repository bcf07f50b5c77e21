"""The Delivery block: one line per recipient, or a count and the ones not delivered."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.audit.deliveries import Delivery
from bot.slack.views.page_messages import LISTED_MAX, delivery_text

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def deliveries(*statuses: str) -> list[Delivery]:
    return [
        Delivery(f"+336100{i:05d}", status, status, AT)
        for i, status in enumerate(statuses)
    ]


def test_a_small_send_lists_every_recipient() -> None:
    text = delivery_text(deliveries("DELIVERED", "NOT_DELIVERED"))
    assert text.count("\n") == 2
    assert "+33 6 •• •• •• 00" in text and "+33 6 •• •• •• 01" in text


def test_a_big_send_counts_and_lists_only_those_not_delivered() -> None:
    text = delivery_text(
        deliveries(*(["DELIVERED"] * 195 + ["NOT_DELIVERED"] * 2 + ["ACK"] * 3))
    )
    first, *lines = text.splitlines()
    assert "195 delivered, 2 failed, 3 waiting" in first
    assert len(lines) == 5
    assert [line.split(":")[0][-2:] for line in lines] == ["95", "96", "97", "98", "99"]
    assert len(text) < 3000  # fits one section


def test_more_than_the_listed_maximum_not_delivered_says_how_many_more() -> None:
    text = delivery_text(deliveries(*(["NOT_DELIVERED"] * (LISTED_MAX + 7))))
    first, *lines = text.splitlines()
    assert f"0 delivered, {LISTED_MAX + 7} failed" in first
    assert len(lines) == LISTED_MAX + 1
    assert "7 more" in lines[-1]
