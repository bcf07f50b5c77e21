"""The directory file: loading, every problem with its line, and name lookups."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.directory.files import load_directory, parse_directory
from bot.directory.model import Directory, DirectoryError, Group, Person
from bot.directory.report import check_report

GOOD = Path(__file__).parents[1] / "data" / "directory" / "good.yml"
CET = timezone(timedelta(hours=1))
#: Alice's turn of db-oncall (weekly from Mon 2026-11-02 09:00 +01:00).
FIRST_WEEK = datetime(2026, 11, 5, 12, tzinfo=CET)
#: Bob's turn.
SECOND_WEEK = datetime(2026, 11, 10, 12, tzinfo=CET)


@pytest.fixture
def directory() -> Directory:
    return load_directory(GOOD, region="FR")


def problems(*parts: str, region: str = "FR") -> list[str]:
    """The problems :func:`parse_directory` finds in ``parts``, each dedented, joined."""
    text = "".join(textwrap.dedent(part).lstrip("\n") for part in parts)
    with pytest.raises(DirectoryError) as excinfo:
        parse_directory(text, region=region)
    return excinfo.value.problems


PEOPLE = """\
people:
  alice: {phone: "+33612345678"}
  bob: {phone: "+33698765432"}
"""


# --- a good file -------------------------------------------------------------------


def test_good_file_loads_people_in_e164_with_lower_case_names(
    directory: Directory,
) -> None:
    assert directory.people == {
        "alice": Person("alice", "+33612345678", "U0ALICE"),
        "bob": Person("bob", "+33698765432", None),
        "carol": Person("carol", "+14155550123", "W0CAROL"),
    }
    assert directory.groups == {"dba": Group("dba", ("alice", "bob"))}


def test_good_file_loads_rotations_with_their_settings(directory: Directory) -> None:
    assert list(directory.rotations) == ["db-oncall", "night"]
    weekly = directory.rotations["db-oncall"]
    assert weekly.members == ("alice", "bob")
    assert weekly.period == timedelta(weeks=1)
    assert weekly.calendar_days is True
    assert weekly.start == datetime(2026, 11, 2, 9, tzinfo=CET)
    assert weekly.escalate_after == timedelta(minutes=5)
    assert weekly.timezone == "Europe/Paris"  # SMS_TIMEZONE's default
    night = directory.rotations["night"]
    assert (night.period, night.calendar_days) == (timedelta(hours=12), False)
    assert night.timezone == "Europe/Paris"
    assert night.escalate_after is None


def test_unquoted_international_numbers_keep_their_plus() -> None:
    # YAML would read +33612345678 as the integer 33612345678; the loader reads text.
    loaded = parse_directory("people:\n  alice: {phone: +33612345678}\n", region="FR")
    assert loaded.people["alice"].phone == "+33612345678"


def test_an_empty_groups_section_is_fine() -> None:
    loaded = parse_directory(PEOPLE + "groups:\n", region="FR")
    assert loaded.groups == {} and loaded.rotations == {}


def test_naive_start_is_read_in_the_rotations_timezone() -> None:
    loaded = parse_directory(
        PEOPLE
        + "groups:\n  r: {members: [alice], rotation: weekly, "
        + "start: 2026-07-06T09:00:00, timezone: Europe/Paris}\n",
        region="FR",
    )
    assert loaded.rotations["r"].start.utcoffset() == timedelta(hours=2)


# --- lookups -----------------------------------------------------------------------


def test_is_name_is_case_insensitive_for_people_groups_and_rotations(
    directory: Directory,
) -> None:
    for token in ("alice", "ALICE", "Carol", "dba", "DBA", "db-oncall", "Night"):
        assert directory.is_name(token), token
    for token in ("dave", "+33612345678", "06", ""):
        assert not directory.is_name(token), token


def test_numbers_for_a_person_is_their_phone(directory: Directory) -> None:
    assert directory.numbers_for("Bob", at=FIRST_WEEK) == ["+33698765432"]


def test_numbers_for_a_group_is_every_members_phone(directory: Directory) -> None:
    assert directory.numbers_for("dba", at=FIRST_WEEK) == [
        "+33612345678",
        "+33698765432",
    ]


def test_numbers_for_a_rotation_is_the_on_call_members_phone(
    directory: Directory,
) -> None:
    assert directory.numbers_for("db-oncall", at=FIRST_WEEK) == ["+33612345678"]
    assert directory.numbers_for("db-oncall", at=SECOND_WEEK) == ["+33698765432"]


def test_numbers_for_an_unknown_name_raises_key_error(directory: Directory) -> None:
    with pytest.raises(KeyError):
        directory.numbers_for("dave", at=FIRST_WEEK)


def test_describe_says_who_a_name_reaches(directory: Directory) -> None:
    assert directory.describe("ALICE", at=FIRST_WEEK) == "alice"
    assert directory.describe("dba", at=FIRST_WEEK) == "dba (alice, bob)"
    assert directory.describe("db-oncall", at=FIRST_WEEK) == (
        "db-oncall: alice, on call until Mon 2026-11-09 09:00 CET"
    )
    assert directory.describe("night", at=FIRST_WEEK) == (
        "night: alice, on call until Thu 2026-11-05 20:00 CET"
    )


def test_name_for_number_finds_who_replied(directory: Directory) -> None:
    assert directory.name_for_number("+33698765432") == "bob"
    assert directory.name_for_number("+33600000000") is None


def test_person_by_slack_id_finds_the_sender(directory: Directory) -> None:
    assert directory.person_by_slack_id("W0CAROL") == Person(
        "carol", "+14155550123", "W0CAROL"
    )
    assert directory.person_by_slack_id("U0NOBODY") is None


def test_oncall_summary_gives_now_next_and_handover(directory: Directory) -> None:
    summary = directory.oncall_summary(FIRST_WEEK)
    assert [oncall.rotation.name for oncall in summary] == ["db-oncall", "night"]
    weekly = summary[0]
    assert (weekly.now.member, weekly.next.member) == ("alice", "bob")
    assert weekly.handover == datetime(2026, 11, 9, 9, tzinfo=CET)


def test_check_report_counts_and_shows_who_is_on_call(directory: Directory) -> None:
    assert check_report(directory, datetime(2026, 11, 10, 12, tzinfo=UTC)) == (
        "Directory OK: 3 people, 1 group, 2 rotations.\n"
        "db-oncall (weekly, Europe/Paris, escalates after 5m)\n"
        "  now:  bob, until Mon 2026-11-16 09:00 CET\n"
        "  next: alice, from Mon 2026-11-16 09:00 CET\n"
        "  hand-overs:\n"
        "    Mon 2026-11-16 09:00 CET -> alice\n"
        "    Mon 2026-11-23 09:00 CET -> bob\n"
        "    Mon 2026-11-30 09:00 CET -> alice\n"
        "night (12h, Europe/Paris)\n"
        "  now:  bob, until Tue 2026-11-10 20:00 CET\n"
        "  next: carol, from Tue 2026-11-10 20:00 CET\n"
        "  hand-overs:\n"
        "    Tue 2026-11-10 20:00 CET -> carol\n"
        "    Wed 2026-11-11 08:00 CET -> alice\n"
        "    Wed 2026-11-11 20:00 CET -> bob"
    )


def test_check_report_shows_an_override_in_force(directory: Directory) -> None:
    from dataclasses import dataclass

    @dataclass
    class Cover:
        person: str
        ends_at: datetime

    at = datetime(2026, 11, 10, 12, tzinfo=UTC)
    cover = Cover("carol", datetime(2026, 11, 10, 17, tzinfo=UTC))
    report = check_report(directory, at, overrides={"db-oncall": cover})
    assert "  override: carol covers until Tue 2026-11-10 18:00 CET" in report


def test_check_report_of_a_file_without_rotations_is_one_line() -> None:
    loaded = parse_directory("people:\n  alice: {phone: '+33612345678'}\n", region="FR")
    assert check_report(loaded, FIRST_WEEK) == (
        "Directory OK: 1 person, 0 groups, 0 rotations."
    )


# --- problems, each with its line --------------------------------------------------


def test_yaml_syntax_errors_give_line_and_column() -> None:
    found = problems("""
        people:
          alice: {phone: "+33612345678"
          bob: {phone: "+33698765432"}
        """)
    assert found == [
        "line 3, column 3: YAML syntax: expected ',' or '}', but got '<scalar>' "
        "(while parsing a flow mapping, line 2)"
    ]


def test_unknown_top_level_keys_are_named() -> None:
    assert problems(PEOPLE + "persons: {}\n") == [
        "line 4, the file: unknown key 'persons'; write people: and groups:"
    ]


def test_a_person_without_phone_is_named() -> None:
    assert problems("people:\n  alice: {slack: U0ALICE}\n  bob:\n") == [
        'line 2, people.alice: has no phone; write phone: "+33612345678"',
        'line 3, people.bob: has no phone; write phone: "+33612345678"',
    ]


def test_a_bad_phone_names_person_value_and_region() -> None:
    assert problems(
        'people:\n  alice: {phone: "+33612345678"}\n  bob: {phone: "06 98"}\n'
    ) == [
        "line 3, people.bob.phone: '06 98' is not a valid phone number (too short); "
        "write it as +33612345678 or in FR national form"
    ]


def test_national_numbers_are_read_in_the_given_region() -> None:
    text = "people:\n  bob: {phone: '(415) 555-0123'}\n"
    assert problems(text, region="FR")[0].startswith(
        "line 2, people.bob.phone: '(415) 555-0123'"
    )
    assert "in FR national form" in problems(text, region="FR")[0]
    loaded = parse_directory(text, region="US")
    assert loaded.people["bob"].phone == "+14155550123"


def test_unknown_person_keys_and_bad_slack_ids_are_named() -> None:
    assert problems("""
        people:
          alice: {phone: "+33612345678", slack: alice, email: a@example.com}
          bob: {phone: "+33698765432", slack: U0BOB}
          carol: {phone: "+33698765431", slack: U0BOB}
        """) == [
        "line 2, people.alice: unknown key 'email'; expected phone, slack",
        "line 2, people.alice.slack: 'alice' is not a Slack user id",
        "line 4, people.carol.slack: 'U0BOB' is bob's too",
    ]


def test_unknown_members_are_named_with_their_line() -> None:
    found = problems(
        PEOPLE,
        """
        groups:
          dba:
            members:
              - alice
              - bobb
              - dave
        """,
    )
    assert found == [
        "line 8, groups.dba.members: unknown member 'bobb': not in people; "
        "did you mean 'bob'?",
        "line 9, groups.dba.members: unknown member 'dave': not in people",
    ]


def test_a_member_listed_twice_is_named() -> None:
    assert problems(
        PEOPLE + "groups:\n  dba:\n    members:\n      - alice\n      - Alice\n"
    ) == ["line 8, groups.dba.members: 'Alice' is listed twice (also line 7)"]
    assert problems(PEOPLE + "groups:\n  dba: {members: [bob, bob]}\n") == [
        "line 5, groups.dba.members: 'bob' is listed twice"
    ]


def test_groups_cannot_be_members() -> None:
    assert problems(
        PEOPLE + "groups:\n  dba: {members: [alice]}\n  all: {members: [dba]}\n"
    ) == ["line 6, groups.all.members: 'dba' is a group; members must be people"]


def test_empty_or_missing_or_unlisted_members_are_refused() -> None:
    assert problems(
        PEOPLE
        + "groups:\n  a: {members: []}\n  b: {}\n  c: {members: alice}\n"
        + "  d: {members: [alice], rotation: daily}\n"
    ) == [
        "line 5, groups.a.members: empty; list at least one person",
        "line 6, groups.b.members: missing; write members: [alice, bob]",
        "line 7, groups.c.members: expected a list such as [alice, bob]",
        "line 8, groups.d: a rotation needs start:, e.g. 2026-11-02T09:00:00+01:00",
    ]


def test_a_name_used_as_person_and_group_is_refused() -> None:
    assert problems(PEOPLE + "groups:\n  Alice: {members: [bob]}\n") == [
        "line 5, groups: 'Alice' is already a person (line 2)"
    ]


def test_a_name_written_twice_in_any_case_is_refused() -> None:
    assert problems(PEOPLE + "  ALICE: {phone: '+33698765430'}\n") == [
        "line 4, people: 'ALICE' is written twice (also line 2)"
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            '"alice smith"',
            "'alice smith' cannot be a name: use letters, digits, '.', '_' and '-' "
            "(no spaces or commas), starting with a letter or digit",
        ),
        (
            '"alice,bob"',
            "'alice,bob' cannot be a name: use letters, digits, '.', '_' and '-' "
            "(no spaces or commas), starting with a letter or digit",
        ),
        (
            '"-ops"',
            "'-ops' cannot be a name: use letters, digits, '.', '_' and '-' "
            "(no spaces or commas), starting with a letter or digit",
        ),
        ('"0612"', "'0612' looks like a phone number; a name needs a letter"),
        ('"06.12-34"', "'06.12-34' looks like a phone number; a name needs a letter"),
        ("page", "'page' is a /sms command word; pick another name"),
    ],
)
def test_names_must_be_usable_as_sms_tokens(name: str, message: str) -> None:
    assert problems(f"people:\n  {name}: {{phone: '+33612345678'}}\n") == [
        f"line 2, people: {message}"
    ]
    assert problems(PEOPLE + f"groups:\n  {name}: {{members: [alice]}}\n") == [
        f"line 5, groups: {message}"
    ]


def test_bad_rotation_escalate_after_and_timezone_are_named() -> None:
    found = problems(
        PEOPLE,
        """
        groups:
          db-oncall:
            members: [alice, bob]
            rotation: fortnightly
            start: 2026-11-02T09:00:00+01:00
            escalate_after: 0m
            timezone: Europe/Pariss
        """,
    )
    assert found == [
        "line 7, groups.db-oncall.rotation: 'fortnightly' is not a duration; write "
        "daily, weekly, or a number and unit such as 12h, 30m, 90s, 2d, 1w or 1h30m",
        "line 9, groups.db-oncall.escalate_after: '0m' is zero; a duration must be "
        "longer than zero",
        "line 10, groups.db-oncall.timezone: 'Europe/Pariss' is not a time zone; "
        "write an IANA name such as Europe/Paris",
    ]


def test_a_start_that_is_not_a_time_is_refused() -> None:
    text = (
        PEOPLE
        + "groups:\n  r:\n    members: [alice]\n    rotation: daily\n    start: next monday\n"
    )
    assert problems(text) == [
        "line 8, groups.r.start: 'next monday' is not a time; "
        "write 2026-11-02T09:00:00+01:00"
    ]


def test_a_start_without_offset_is_local_time_in_sms_timezone() -> None:
    text = (
        PEOPLE
        + "groups:\n  r:\n    members: [alice]\n    rotation: daily\n"
        + "    start: 2026-11-02T09:00:00\n"
    )
    paris = parse_directory(text, region="FR").rotations["r"]
    assert paris.start == datetime(2026, 11, 2, 9, tzinfo=CET)
    tokyo = parse_directory(text, region="FR", timezone="Asia/Tokyo").rotations["r"]
    assert tokyo.start.utcoffset() == timedelta(hours=9)


def test_a_start_offset_that_contradicts_the_timezone_is_refused() -> None:
    text = PEOPLE + (
        "groups:\n  r:\n    members: [alice]\n    rotation: weekly\n"
        "    start: 2026-07-06T09:00:00+01:00\n    timezone: Europe/Paris\n"
    )
    assert problems(text) == [
        "line 8, groups.r.start: '2026-07-06T09:00:00+01:00' has UTC offset +01:00 but "
        "Europe/Paris is at +02:00 then; fix the offset or leave it out"
    ]


def test_rotation_keys_on_a_plain_group_are_refused() -> None:
    assert problems(
        PEOPLE + "groups:\n  dba:\n    members: [alice]\n    escalate_after: 5m\n"
    ) == [
        "line 7, groups.dba.escalate_after: only rotations have it; "
        "add rotation: daily, weekly or a duration"
    ]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    found = problems("""
        groups:
          dba: {members: [alice, zoe]}
        people:
          alice: {phone: "12"}
        extra: 1
        """)
    assert [problem.split(",")[0] for problem in found] == [
        "line 2",
        "line 4",
        "line 5",
    ]
    assert "unknown member 'zoe'" in found[0]
    assert "people.alice.phone: '12'" in found[1]
    assert "unknown key 'extra'" in found[2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty; write people: and groups:"),
        ("# nobody yet\n", "line 1: the file is empty; write people: and groups:"),
        ("- alice\n", "line 1, the file: expected people: and groups:"),
        ("people: [alice]\n", "line 1, people: expected a mapping of names"),
        (
            "people:\n  alice: '+33612345678'\n",
            "line 2, people.alice: expected a mapping of phone:, slack:",
        ),
    ],
)
def test_files_of_the_wrong_shape_are_refused(text: str, message: str) -> None:
    assert message in problems(text)


def test_load_directory_names_the_file_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "sms.yml"
    path.write_text("people:\n  bob: {phone: '06 98'}\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as excinfo:
        load_directory(path, region="FR")
    assert excinfo.value.source == str(path)
    assert str(excinfo.value).startswith(f"{path}: line 2, people.bob.phone: '06 98'")


def test_load_directory_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError) as excinfo:
        load_directory(tmp_path / "missing.yml", region="FR")
    assert excinfo.value.problems == ["cannot be read: No such file or directory"]


def test_directory_error_is_a_value_error() -> None:
    assert issubclass(DirectoryError, ValueError)
