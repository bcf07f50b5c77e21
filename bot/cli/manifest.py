"""``sms-bot manifest [--workflow-steps]``: the Slack app manifest to paste into Slack.

Without the flag it prints ``manifest.yml`` as it is (importable on a free workspace).
With ``--workflow-steps`` it adds the Workflow Builder steps, which need a paid plan
and an org-ready app (README, "Workflow Builder"): built from the same file, so the
two manifests never drift apart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.cli.support import EXIT_OK, EXIT_USAGE, cli_translator
from bot.i18n import Translator
from bot.slack.workflow_manifest import with_workflow_steps

#: ``manifest.yml`` of the source tree (the package sits beside it).
DEFAULT_MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

HEADER = """\
# Slack app manifest WITH the Workflow Builder steps (sms-bot manifest --workflow-steps).
# Needs a paid Slack plan; the app is org-ready (org_deploy_enabled) and an admin must
# approve its steps. Replace sms-bot.example.com with the public host of `sms-bot serve`.
"""


def add_manifest_command(commands: Any, tr: Translator | None = None) -> None:
    """Register ``manifest`` on the ``sms-bot`` sub-command parser."""
    _ = (tr or cli_translator()).gettext
    parser = commands.add_parser(
        "manifest",
        help=_("print the Slack app manifest"),
        description=_(
            "Print the Slack app manifest to create or update the app with. "
            "--workflow-steps adds the Workflow Builder steps (paid Slack plans only)."
        ),
    )
    parser.add_argument(
        "--workflow-steps",
        action="store_true",
        help=_("add the 'Send an SMS' and 'Page on-call' Workflow Builder steps"),
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=DEFAULT_MANIFEST,
        metavar=_("FILE"),
        help=_("the manifest to start from (default: the project's manifest.yml)"),
    )
    parser.set_defaults(handler=print_manifest)


def print_manifest(args: argparse.Namespace) -> int:
    chosen = getattr(args, "tr", None)
    tr = chosen if isinstance(chosen, Translator) else cli_translator()
    source: Path = args.source
    try:
        text = source.read_text(encoding="utf-8")
        manifest = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as error:
        print(
            tr.gettext(
                "sms-bot: cannot read the manifest %(path)s: %(error)s",
                path=str(source),
                error=getattr(error, "strerror", None) or type(error).__name__,
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not isinstance(manifest, dict):
        print(
            tr.gettext(
                "sms-bot: %(path)s is not a Slack app manifest", path=str(source)
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not args.workflow_steps:
        sys.stdout.write(text)
        return EXIT_OK
    sys.stdout.write(HEADER)
    sys.stdout.write(
        yaml.safe_dump(
            with_workflow_steps(manifest),
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )
    )
    return EXIT_OK
