"""argparse's own words ("usage:", "options", its errors) in the CLI's language.

argparse writes them with the standard library's ``gettext``, looked up at call time
through two names of its module, ``argparse._`` and ``argparse.ngettext``, in the
system's ``messages`` domain, where sms-bot ships nothing. :func:`argparse_speaking`
binds those two names to our catalog while ``sms-bot``'s parser is built and used,
and puts the originals back afterwards, so a French reader gets "utilisation :" and
"les arguments suivants sont obligatoires" and English stays exactly argparse's.

Why not subclasses of ``ArgumentParser`` or ``HelpFormatter``: they reach only some of
the words. Others are written by argparse's actions and internal methods (the help
action's default help, the group titles set in ``__init__``, "invalid choice" in
``_check_value``, ``ArgumentError.__str__``), and overriding those would copy one
Python version's source. The two names argparse itself calls cover every word in
every version. They are process-wide while bound, which suits a command line: it
parses once, on one thread, before doing anything else.

:data:`WORDS` lists the msgids a reader of ``sms-bot`` can meet (Python 3.11 to 3.13
write the same ones), marked with ``N_`` so ``pybabel`` puts them in our catalog.
They keep argparse's placeholders (``%s``, ``%(prog)s``, ``%(value)r``): argparse
fills them itself. argparse writes the colon after a group title, so a French title
ends with a space ("options " gives "options :", as French puts it).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from bot.i18n import N_, Translator, load_translations

#: What argparse writes for people; its errors about a badly built parser are left out.
WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)

_NAMES = ("_", "ngettext")


@contextmanager
def argparse_speaking(tr: Translator) -> Iterator[None]:
    """argparse speaks ``tr``'s language inside the block (see the module docstring)."""
    catalog = load_translations(tr.language)
    module = vars(argparse)
    saved = {name: module[name] for name in _NAMES}
    module.update(_=catalog.gettext, ngettext=catalog.ngettext)
    try:
        yield
    finally:
        module.update(saved)
