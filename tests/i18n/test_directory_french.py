"""``sms-bot directory check`` and every directory problem, in the CLI's language.

The real CLI in a subprocess (``tests.cli.test_main.run``): LANG=fr_FR.UTF-8, or
SMS_LANGUAGE=fr with no LANG, gives French; LANG=C and en_US keep the English words.
Names, line numbers, YAML keys and examples stay as the file and README write them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.audit import AuditStore
from bot.audit.overrides import OverrideStore
from bot.directory.files import parse_directory
from bot.directory.source import open_directory
from bot.errors import SettingsError
from bot.i18n import translator
from tests.cli.test_admin import GOOD
from tests.cli.test_main import run
from tests.conftest import SlackHarness

FRENCH = ({"LANG": "fr_FR.UTF-8"}, {"SMS_LANGUAGE": "fr"})
ENGLISH = ({"LANG": "C"}, {"LANG": "en_US.UTF-8", "SMS_LANGUAGE": "fr"})

#: One problem of each kind the reader finds, with the line it is on.
BROKEN = """\
people:
  alice: {phone: "+33612345678", mail: x}
  bob: {slack: nope}
  "1234": {phone: "+33698765432"}
groups:
  ops: {members: [alice, alicee, alice, bob]}
  night:
    members: [alice]
    rotation: fortnightly
    start: yesterday
  day: {members: [alice], timezone: Europe/Paris}
  alice: {members: [alice]}
color: blue
"""

BROKEN_FRENCH = [
    "  ligne 2, people.alice : clé inconnue « mail » ; attendu : phone, slack",
    '  ligne 3, people.bob : n\'a pas de téléphone ; écrivez phone: "+33612345678"',
    "  ligne 3, people.bob.slack : « nope » n'est pas un identifiant d'utilisateur Slack",
    "  ligne 4, people : « 1234 » ressemble à un numéro de téléphone ; "
    "un nom doit contenir une lettre",
    "  ligne 6, groups.ops.members : membre inconnu « alicee » : absent de people ; "
    "vouliez-vous dire « alice » ?",
    "  ligne 6, groups.ops.members : « alice » figure deux fois",
    "  ligne 9, groups.night.rotation : « fortnightly » n'est pas une durée ; écrivez "
    "daily, weekly, ou un nombre et une unité comme 12h, 30m, 90s, 2d, 1w ou 1h30m",
    "  ligne 10, groups.night.start : « yesterday » n'est pas une date et heure ; "
    "écrivez 2026-11-02T09:00:00+01:00",
    "  ligne 11, groups.day.timezone : seules les rotations l'ont ; "
    "ajoutez rotation: daily, weekly ou une durée",
    "  ligne 12, groups : « alice » est déjà une personne (ligne 2)",
    "  ligne 13, le fichier : clé inconnue « color » ; écrivez people: et groups:",
]

#: English words of the report and the problems that must not be left in French.
ENGLISH_WORDS = (
    "Directory OK",
    "people,",
    "until",
    "from",
    "hand-overs",
    "escalates",
    "override",
    "covers",
    "line ",
    "unknown",
    "expected",
    "listed twice",
    "did you mean",
    "has no phone",
    "is not",
    "cannot be used",
    "the file",
    "looks like",
)


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(GOOD)
    return path


@pytest.mark.parametrize("locale", FRENCH)
def test_directory_check_reports_in_french(
    env: dict[str, str], tmp_path: Path, directory_file: Path, locale: dict[str, str]
) -> None:
    env.update(locale, SMS_DIRECTORY=str(directory_file))
    now = datetime.now(UTC)
    store = AuditStore.from_url(env["DATABASE_URL"])
    try:
        OverrideStore(store).set(
            "night-shift", "carol", until=now + timedelta(hours=4), by="U1"
        )
    finally:
        store.close()
    result = run(["directory", "check"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    rotation = parse_directory(GOOD, region="FR").rotations["night-shift"]
    shift, following = rotation.shift(now), rotation.next_shift(now)
    day = rotation.format_time(shift.ends_at, translator("fr").locale)
    assert day.split()[0] in ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Annuaire valide : 2 personnes, 1 groupe, 1 rotation.",
        "night-shift (quotidienne, Europe/Paris, escalade après 5m)",
        f"  maintenant : {shift.member}, jusqu'au {day}",
        f"  ensuite : {following.member}, à partir du {day}",
    ]
    assert lines[4].startswith("  remplacement : carol remplace jusqu'au ")
    assert lines[5] == "  prochaines relèves :"
    assert lines[6] == f"    {day} -> {following.member}"
    for word in ENGLISH_WORDS:
        assert word not in result.stdout, word


@pytest.mark.parametrize("locale", FRENCH)
def test_every_kind_of_directory_problem_is_french(
    env: dict[str, str], tmp_path: Path, locale: dict[str, str]
) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    env.update(locale)
    result = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"sms-bot: {path} est inutilisable :"
    assert lines[1:] == BROKEN_FRENCH
    for word in ENGLISH_WORDS:
        assert word not in result.stderr, word


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [
        (
            'people:\n  alice: {phone: "+336"\n  bob: x: y\n',
            "ligne 3, colonne 3 : syntaxe YAML : ',' ou '}' attendu, mais '<scalar>' "
            "trouvé (en lisant un dictionnaire entre accolades, ligne 2)",
            "line 3, column 3: YAML syntax: expected ',' or '}', but got '<scalar>' "
            "(while parsing a flow mapping, line 2)",
        ),
        (
            "people:\n  alice: x: y\n",
            "ligne 2, colonne 11 : syntaxe YAML : "
            "les valeurs de dictionnaire ne sont pas permises ici",
            "line 2, column 11: YAML syntax: mapping values are not allowed here",
        ),
        (
            "people:\n  alice:\n\t phone: 1\n",
            "ligne 3, colonne 1 : syntaxe YAML : caractère '\\t' trouvé, "
            "qui ne peut commencer aucun élément",
            "line 3, column 1: YAML syntax: "
            "found character '\\t' that cannot start any token",
        ),
    ],
)
def test_yaml_syntax_problems_are_french_and_keep_their_place(
    env: dict[str, str], tmp_path: Path, text: str, french: str, english: str
) -> None:
    path = tmp_path / "syntax.yml"
    path.write_text(text)
    env["LANG"] = "fr_FR.UTF-8"
    result = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[1:] == [f"  {french}"]
    env["LANG"] = "C"
    result = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert result.stderr.splitlines()[1:] == [f"  {english}"]


def test_every_pyyaml_phrase_listed_is_one_pyyaml_writes() -> None:
    """A typo in ``yaml_words`` would silently leave PyYAML's English in place."""
    import inspect

    import yaml.composer
    import yaml.parser
    import yaml.scanner

    from bot.directory.yaml_words import PHRASES

    source = "".join(
        inspect.getsource(module)
        for module in (yaml.scanner, yaml.parser, yaml.composer)
    )
    for phrase in PHRASES:
        assert (
            f'"{phrase}"' in source
            or f'"{phrase.rsplit(" ", 1)[0]} %s"' in source
            or f"'{phrase}'" in source
        ), phrase


@pytest.mark.parametrize("locale", ENGLISH)
def test_directory_check_stays_english(
    env: dict[str, str], tmp_path: Path, directory_file: Path, locale: dict[str, str]
) -> None:
    env.update(locale, SMS_DIRECTORY=str(directory_file))
    good = run(["directory", "check"], env, tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith(
        "Directory OK: 2 people, 1 group, 1 rotation.\n"
        "night-shift (daily, Europe/Paris, escalates after 5m)\n  now:  "
    )
    assert "  hand-overs:\n" in good.stdout
    assert "Annuaire" not in good.stdout and "jusqu'au" not in good.stdout
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    bad = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert bad.stderr.splitlines()[1:3] == [
        "  line 2, people.alice: unknown key 'mail'; expected phone, slack",
        '  line 3, people.bob: has no phone; write phone: "+33612345678"',
    ]
    assert bad.stderr.splitlines()[-1] == (
        "  line 13, the file: unknown key 'color'; write people: and groups:"
    )
    assert "ligne" not in bad.stderr


def test_a_bad_sms_directory_at_start_is_french_through_the_settings_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    env.update(LANG="fr_FR.UTF-8", SMS_DIRECTORY=str(path))
    result = run(["send", "--to", "ops", "Bonjour"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "sms-bot: des réglages manquent ou sont mal formés :"
    assert lines[1] == (
        f"  SMS_DIRECTORY ({path}) : ligne 2, people.alice : clé inconnue « mail » ; "
        "attendu : phone, slack"
    )
    assert len(lines) == 1 + len(BROKEN_FRENCH)


def test_directory_problems_stay_english_for_logs_and_translate_for_slack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The problems are marked, not translated: ``str`` is English, any surface's
    translator (a Slack post's included) gives its reader's language."""
    from bot.config import load_settings

    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    monkeypatch.setenv("SMS_DIRECTORY", str(path))
    settings = load_settings(env_file=None)
    with pytest.raises(SettingsError) as raised:
        open_directory(settings)
    last = raised.value.problems[-1]
    assert str(last) == (
        f"SMS_DIRECTORY ({path}): "
        "line 13, the file: unknown key 'color'; write people: and groups:"
    )
    assert translator("fr").gettext(last) == (
        f"SMS_DIRECTORY ({path}) : "
        "ligne 13, le fichier : clé inconnue « color » ; écrivez people: et groups:"
    )


def test_a_bad_edit_while_running_is_announced_in_the_workspace_language(
    make_harness: Callable[..., SlackHarness], directory_file: Path
) -> None:
    """The reload's problems reach SMS_ADMIN_CHANNEL in SMS_LANGUAGE; the log is English."""
    harness = make_harness(
        directory=str(directory_file), admin_channel="CADMIN", language="fr"
    )
    source = harness.stack.paging.deps.directory
    directory_file.write_text(GOOD + "color: blue\n")
    source._checked_at = float("-inf")  # do not wait for the periodic check
    assert source.current().is_name("alice")
    (post,) = [
        call.args["text"]
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("channel") == "CADMIN"
    ]
    assert post == (
        f"SMS_DIRECTORY {directory_file} a été modifié mais ne peut pas être utilisé ; "
        "la version précédente reste en service :\n"
        f"{directory_file} : ligne 11, le fichier : clé inconnue « color » ; "
        "écrivez people: et groups:"
    )
