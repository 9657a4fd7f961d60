"""The install compiles the language catalogues (core/translations/*/messages.po -> .mo).

Everything else about the package is in pyproject.toml; this only hooks the build, so
that `pip install -e .` (the README's commands) leaves a portal that speaks all its
languages with no separate step. Babel, a dependency of the portal, is a build
requirement too (pyproject.toml [build-system]).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGUES = Path(__file__).resolve().parent / "core" / "translations"


def compile_catalogues() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(CATALOGUES.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalogue)


class BuildWithCatalogues(build_py):
    def run(self):
        compile_catalogues()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
