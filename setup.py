"""Build hook: compile the gettext catalogs (``bot/locale/*/LC_MESSAGES/*.po``) to ``.mo``.

Everything else about the package is in ``pyproject.toml``. ``.mo`` files are build
products, not committed: a wheel gets them in its build directory, and an editable
install (``pip install -e .``) gets them next to the ``.po`` in the source tree. If one
is missing anyway, ``bot.i18n`` compiles the ``.po`` in memory at run time.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LOCALE = Path("bot") / "locale"


def compile_catalogs(target_root: Path) -> list[Path]:
    """Write ``messages.mo`` beside each ``messages.po``, under ``target_root/bot/locale``."""
    written = []
    for po in sorted((HERE / LOCALE).glob("*/LC_MESSAGES/*.po")):
        mo = target_root / po.relative_to(HERE).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class BuildPyWithCatalogs(build_py):
    """``build_py`` that also compiles the catalogs (wheel and editable installs)."""

    def run(self) -> None:
        super().run()
        editable = getattr(self, "editable_mode", False)
        for mo in compile_catalogs(HERE if editable else Path(self.build_lib)):
            self.announce(f"compiled {mo}", level=2)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            build = Path(self.build_lib)
            outputs += [
                str(build / po.relative_to(HERE).with_suffix(".mo"))
                for po in sorted((HERE / LOCALE).glob("*/LC_MESSAGES/*.po"))
            ]
        return outputs


setup(cmdclass={"build_py": BuildPyWithCatalogs})
