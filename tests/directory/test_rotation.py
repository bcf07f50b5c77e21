"""Rotation arithmetic: durations, whose turn it is, and hand-overs across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.directory.rotation import (
    Rotation,
    Shift,
    format_duration,
    parse_duration,
    parse_period,
    parse_start,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


def weekly(members: tuple[str, ...] = ("alice", "bob"), **kwargs: Any) -> Rotation:
    values: dict[str, Any] = {
        "name": "db-oncall",
        "members": members,
        "period": timedelta(weeks=1),
        "start": datetime(2026, 11, 2, 9, tzinfo=CET),
        "calendar_days": True,
    }
    values.update(kwargs)
    return Rotation(**values)


# --- durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily", timedelta(days=1)),
        ("weekly", timedelta(weeks=1)),
        ("Weekly", timedelta(weeks=1)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
    ],
)
def test_parse_duration_reads_words_and_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "fortnightly", "12", "h", "-5m", "1.5h", "30m1h", "5 minutes", "P1D"]
)
def test_parse_duration_refuses_other_forms_naming_value_and_forms(text: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_duration(text)
    assert str(excinfo.value) == (
        f"'{text}' is not a duration; write daily, weekly, or a number and unit "
        "such as 12h, 30m, 90s, 2d, 1w or 1h30m"
    )


@pytest.mark.parametrize("text", ["0m", "0h0m", "0s"])
def test_parse_duration_refuses_zero(text: str) -> None:
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration(text)


def test_parse_duration_refuses_durations_longer_than_a_year() -> None:
    assert parse_duration("366d") == timedelta(days=366)
    with pytest.raises(
        ValueError, match="'53w' is too long; the longest duration is 366d"
    ):
        parse_duration("53w")


def test_parse_period_marks_only_daily_and_weekly_as_calendar_periods() -> None:
    assert parse_period("weekly") == (timedelta(weeks=1), True)
    assert parse_period("daily") == (timedelta(days=1), True)
    assert parse_period("7d") == (timedelta(weeks=1), False)
    assert parse_period("24h") == (timedelta(days=1), False)


@given(st.integers(min_value=1, max_value=366 * 86400))
def test_format_duration_round_trips_through_parse_duration(seconds: int) -> None:
    duration = timedelta(seconds=seconds)
    assert parse_duration(format_duration(duration)) == duration


# --- examples ----------------------------------------------------------------------


def test_first_member_is_on_call_from_start_until_the_first_handover() -> None:
    rotation = weekly()
    assert rotation.shift(datetime(2026, 11, 2, 9, tzinfo=CET)) == Shift(
        "alice",
        datetime(2026, 11, 2, 9, tzinfo=CET),
        datetime(2026, 11, 9, 9, tzinfo=CET),
        0,
    )
    assert rotation.on_call(datetime(2026, 11, 9, 8, 59, 59, tzinfo=CET)) == "alice"
    assert rotation.on_call(datetime(2026, 11, 9, 9, tzinfo=CET)) == "bob"
    assert rotation.on_call(datetime(2026, 11, 16, 9, tzinfo=CET)) == "alice"


def test_instants_in_other_zones_are_compared_as_instants() -> None:
    rotation = weekly()
    assert rotation.on_call(datetime(2026, 11, 9, 7, 59, tzinfo=UTC)) == "alice"
    assert rotation.on_call(datetime(2026, 11, 9, 8, 0, tzinfo=UTC)) == "bob"


def test_turns_extend_backwards_before_start() -> None:
    rotation = weekly(("alice", "bob", "carol"))
    shift = rotation.shift(datetime(2026, 11, 1, tzinfo=CET))
    assert shift == Shift(
        "carol",
        datetime(2026, 10, 26, 9, tzinfo=CET),
        datetime(2026, 11, 2, 9, tzinfo=CET),
        -1,
    )


def test_next_shift_is_the_turn_after_the_current_one() -> None:
    rotation = weekly(("alice", "bob", "carol"))
    at = datetime(2026, 11, 10, tzinfo=CET)
    assert rotation.next_shift(at) == Shift(
        "carol",
        datetime(2026, 11, 16, 9, tzinfo=CET),
        datetime(2026, 11, 23, 9, tzinfo=CET),
        2,
    )


def test_escalation_order_starts_with_who_is_on_call_and_names_each_once() -> None:
    rotation = weekly(("alice", "bob", "carol", "bob"))
    at = datetime(2026, 11, 10, tzinfo=CET)
    assert rotation.escalation_order(at) == ["bob", "carol", "alice"]


def test_exact_durations_ignore_daylight_saving() -> None:
    rotation = Rotation(
        name="night",
        members=("alice", "bob"),
        period=timedelta(hours=12),
        start=datetime(2026, 3, 28, 20, tzinfo=PARIS),
        timezone="Europe/Paris",
    )
    shift = rotation.shift(datetime(2026, 3, 29, 12, tzinfo=UTC))
    # 20:00 CET + 12 h is 09:00 CEST: the clocks moved, the turn did not.
    assert shift.starts_at == datetime(2026, 3, 29, 9, tzinfo=CEST)
    assert shift.ends_at - shift.starts_at == timedelta(hours=12)
    assert shift.member == "bob"


def test_weekly_handover_keeps_its_local_hour_across_the_spring_change() -> None:
    rotation = weekly(
        start=datetime(2026, 3, 23, 9, tzinfo=CET), timezone="Europe/Paris"
    )
    shift = rotation.shift(datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert shift.starts_at == datetime(2026, 3, 23, 9, tzinfo=CET)
    assert shift.ends_at == datetime(2026, 3, 30, 9, tzinfo=CEST)
    assert shift.ends_at - shift.starts_at == timedelta(days=7, hours=-1)


def test_weekly_handover_keeps_its_local_hour_across_the_autumn_change() -> None:
    rotation = weekly(
        start=datetime(2026, 10, 19, 9, tzinfo=CEST), timezone="Europe/Paris"
    )
    shift = rotation.shift(datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert shift.ends_at == datetime(2026, 10, 26, 9, tzinfo=CET)
    assert shift.ends_at - shift.starts_at == timedelta(days=7, hours=1)


CONTRACT_EXAMPLE = """\
people:
  alice: {phone: "+33612345678"}
  bob:   {phone: "06 98 76 54 32"}
groups:
  db-oncall:
    members: [alice, bob]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""


@pytest.mark.parametrize(
    ("at", "handover"),
    [
        # Winter, before the spring change: 09:00 CET.
        (datetime(2027, 3, 24, 12, tzinfo=UTC), datetime(2027, 3, 29, 9, tzinfo=CEST)),
        # The week the clocks go forward (2027-03-28): still 09:00, now CEST.
        (datetime(2027, 3, 27, 12, tzinfo=UTC), datetime(2027, 3, 29, 9, tzinfo=CEST)),
        # Summer: 09:00 CEST, not 10:00.
        (datetime(2027, 7, 1, 12, tzinfo=UTC), datetime(2027, 7, 5, 9, tzinfo=CEST)),
        # Back in winter after the autumn change: 09:00 CET.
        (datetime(2027, 11, 2, 12, tzinfo=UTC), datetime(2027, 11, 8, 9, tzinfo=CET)),
    ],
)
def test_the_contracts_example_hands_over_at_nine_local_on_both_sides_of_dst(
    at: datetime, handover: datetime
) -> None:
    """No ``timezone:`` in the file: the rotation is in SMS_TIMEZONE (Europe/Paris)."""
    from bot.directory.files import parse_directory

    rotation = parse_directory(CONTRACT_EXAMPLE, region="FR").rotations["db-oncall"]
    ends = rotation.shift(at).ends_at
    assert ends == handover
    assert ends.astimezone(PARIS).time() == time(9, 0)
    assert rotation.format_time(ends).endswith(("09:00 CET", "09:00 CEST"))


def test_sms_timezone_sets_the_zone_of_rotations_that_name_none() -> None:
    from bot.directory.files import parse_directory

    text = CONTRACT_EXAMPLE.replace("+01:00", "-05:00")
    directory = parse_directory(text, region="FR", timezone="America/New_York")
    rotation = directory.rotations["db-oncall"]
    assert rotation.timezone == "America/New_York"
    summer = rotation.shift(datetime(2027, 7, 1, 12, tzinfo=UTC)).ends_at
    assert summer.astimezone(NEW_YORK).time() == time(9, 0)


def test_the_next_three_handovers_keep_their_local_hour_across_dst() -> None:
    rotation = weekly(
        start=datetime(2027, 3, 15, 9, tzinfo=CET), timezone="Europe/Paris"
    )
    shifts = rotation.handovers(datetime(2027, 3, 16, 12, tzinfo=UTC))
    assert [s.starts_at for s in shifts] == [
        datetime(2027, 3, 22, 9, tzinfo=CET),
        datetime(2027, 3, 29, 9, tzinfo=CEST),
        datetime(2027, 4, 5, 9, tzinfo=CEST),
    ]
    assert [s.member for s in shifts] == ["bob", "alice", "bob"]


def test_handover_in_a_spring_gap_happens_at_the_shifted_instant() -> None:
    rotation = Rotation(
        name="early",
        members=("alice", "bob"),
        period=timedelta(days=1),
        start=datetime(2026, 3, 27, 2, 30, tzinfo=PARIS),
        calendar_days=True,
        timezone="Europe/Paris",
    )
    # 02:30 does not exist on 2026-03-29 in Paris; the hand-over is at 03:30 CEST.
    shift = rotation.shift(datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert shift.starts_at == datetime(2026, 3, 29, 3, 30, tzinfo=CEST)
    assert shift.ends_at == datetime(2026, 3, 30, 2, 30, tzinfo=CEST)


def test_handover_at_a_repeated_autumn_time_happens_at_the_first_one() -> None:
    rotation = Rotation(
        name="early",
        members=("alice", "bob"),
        period=timedelta(days=1),
        start=datetime(2026, 10, 23, 2, 30, tzinfo=PARIS),
        calendar_days=True,
        timezone="Europe/Paris",
    )
    shift = rotation.shift(datetime(2026, 10, 25, 12, tzinfo=UTC))
    assert shift.starts_at == datetime(2026, 10, 25, 2, 30, tzinfo=CEST)


def test_period_text_is_what_the_file_says() -> None:
    assert weekly().period_text == "weekly"
    assert weekly(period=timedelta(days=1)).period_text == "daily"
    assert weekly(calendar_days=False).period_text == "1w"
    assert (
        weekly(calendar_days=False, period=timedelta(minutes=90)).period_text == "1h30m"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": ()}, "has no members"),
        ({"start": datetime(2026, 11, 2, 9)}, "start must have a UTC offset"),
        ({"period": timedelta(0)}, "period must be positive"),
        ({"period": timedelta(hours=36)}, "a calendar period is whole days"),
        ({"escalate_after": timedelta(0)}, "escalate_after must be positive"),
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not a time zone"),
    ],
)
def test_rotation_refuses_impossible_settings(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        weekly(**kwargs)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        weekly().on_call(datetime(2026, 11, 10, 9))


# --- properties --------------------------------------------------------------------

ZONES = [UTC, CET, timezone(timedelta(hours=-5, minutes=-30)), PARIS, NEW_YORK]
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2060, 1, 1),
    timezones=st.sampled_from(ZONES),
)
members = st.lists(
    st.sampled_from(["alice", "bob", "carol", "dave", "eve"]),
    min_size=1,
    max_size=5,
    unique=True,
).map(tuple)
exact_periods = st.integers(min_value=1, max_value=60 * 86400).map(
    lambda seconds: timedelta(seconds=seconds)
)


@st.composite
def rotations(draw: st.DrawFn) -> Rotation:
    calendar = draw(st.booleans())
    if calendar:
        period = timedelta(days=draw(st.sampled_from([1, 7])))
    else:
        period = draw(exact_periods)
    zone = draw(st.sampled_from([None, "Europe/Paris", "America/New_York"]))
    return Rotation(
        name="r",
        members=draw(members),
        period=period,
        start=draw(instants),
        calendar_days=calendar,
        timezone=zone,
    )


@given(rotations(), instants)
def test_the_shift_at_an_instant_contains_it(rotation: Rotation, at: datetime) -> None:
    shift = rotation.shift(at)
    assert shift.starts_at <= at < shift.ends_at


@given(rotations(), instants)
def test_consecutive_shifts_tile_time(rotation: Rotation, at: datetime) -> None:
    shift = rotation.shift(at)
    after = rotation.next_shift(at)
    assert after.starts_at == shift.ends_at
    assert after.index == shift.index + 1
    assert rotation.shift(shift.ends_at) == after
    before = rotation.shift(shift.starts_at - timedelta(microseconds=1))
    assert before.ends_at == shift.starts_at
    assert before.index == shift.index - 1


@given(rotations(), instants)
def test_members_take_turns_in_order(rotation: Rotation, at: datetime) -> None:
    shift = rotation.shift(at)
    n = len(rotation.members)
    assert shift.member == rotation.members[shift.index % n]
    assert rotation.next_shift(at).member == rotation.members[(shift.index + 1) % n]
    assert rotation.escalation_order(at)[0] == shift.member
    assert sorted(rotation.escalation_order(at)) == sorted(rotation.members)


@given(rotations().filter(lambda r: not r.calendar_days), instants)
def test_exact_shifts_last_exactly_the_period(rotation: Rotation, at: datetime) -> None:
    shift = rotation.shift(at)
    assert shift.ends_at - shift.starts_at == rotation.period


@st.composite
def zoned_calendar_rotations(draw: st.DrawFn) -> Rotation:
    """Calendar rotations whose hand-over time never falls in a DST gap or overlap."""
    zone = draw(st.sampled_from(["Europe/Paris", "America/New_York"]))
    day = draw(
        st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1))
    )
    hour = draw(st.integers(min_value=4, max_value=23))
    start = day.replace(hour=hour, tzinfo=ZoneInfo(zone))
    return Rotation(
        name="r",
        members=draw(members),
        period=timedelta(days=draw(st.sampled_from([1, 7]))),
        start=start,
        calendar_days=True,
        timezone=zone,
    )


@given(zoned_calendar_rotations(), instants)
def test_calendar_handovers_keep_their_local_time(
    rotation: Rotation, at: datetime
) -> None:
    shift = rotation.shift(at)
    wall = rotation.local(rotation.start).time()
    for edge in (shift.starts_at, shift.ends_at):
        assert rotation.local(edge).time() == wall
        assert edge.utcoffset() == rotation.local(edge).utcoffset()
    days = (
        rotation.local(shift.ends_at).date() - rotation.local(shift.starts_at).date()
    ).days
    assert timedelta(days=days) == rotation.period


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Paris", datetime(2026, 3, 29)),
        ("Europe/Paris", datetime(2026, 10, 25)),
        ("America/New_York", datetime(2026, 3, 8)),
        ("America/New_York", datetime(2026, 11, 1)),
    ],
)
def test_daily_handover_hour_is_the_same_on_both_sides_of_a_dst_change(
    zone: str, day: datetime
) -> None:
    tz = ZoneInfo(zone)
    rotation = Rotation(
        name="r",
        members=("alice", "bob", "carol"),
        period=timedelta(days=1),
        start=datetime(2026, 1, 5, 9, tzinfo=tz),
        calendar_days=True,
        timezone=zone,
    )
    for offset in range(-2, 3):
        noon = (day + timedelta(days=offset)).replace(hour=12, tzinfo=tz)
        shift = rotation.shift(noon)
        assert rotation.local(shift.starts_at).time() == time(9)
        assert rotation.local(shift.ends_at).time() == time(9)


def test_parse_start_reads_offsets_and_zone_local_times() -> None:
    assert parse_start("2026-11-02T09:00:00+01:00") == datetime(
        2026, 11, 2, 9, tzinfo=CET
    )
    assert parse_start("2026-11-02T08:00:00Z") == datetime(2026, 11, 2, 8, tzinfo=UTC)
    local = parse_start("2026-07-06T09:00", "Europe/Paris")
    assert local == datetime(2026, 7, 6, 9, tzinfo=CEST)


def test_parse_start_refuses_an_offset_the_zone_does_not_have_then() -> None:
    with pytest.raises(
        ValueError, match=r"has UTC offset \+01:00 but Europe/Paris is at \+02:00"
    ):
        parse_start("2026-07-06T09:00:00+01:00", "Europe/Paris")
