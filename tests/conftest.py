"""Shared fixtures. ``make_content`` writes a small, valid content folder to edit per test."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

#: Set by ``.ci/run`` where the judges and real servers are installed: there a skipped test is a
#: failed one, so no judge, browser, cache or server can silently drop out of CI.
NO_SKIPS = os.environ.get("SMCFEED_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and SMCFEED_NO_SKIPS=1 forbids skips: {report.longrepr}"
    return outcome


SITE_YAML = """\
    base_url: https://feeds.example.org
    website: https://example.org
    timezone: Europe/Madrid
    languages: [es, en]
    default_language: es
    title:
      es: Centro de prueba
      en: Test centre
    description:
      es: Reacciones de expertos de prueba.
      en: Test expert reactions.
    license:
      name: CC BY 4.0
      url: https://creativecommons.org/licenses/by/4.0/
      attribution:
        es: Publicado por el Centro de prueba bajo CC BY 4.0.
        en: Published by the Test centre under CC BY 4.0.
      credit:
        es: "Fuente: Centro de prueba (CC BY 4.0)"
        en: "Source: Test centre (CC BY 4.0)"
    types:
      reaction: {es: Reacciones, en: Reactions}
      expert-voice: {es: La voz del experto, en: Expert voice}
      what-we-know: {es: Qué sabemos, en: What we know}
      guide: {es: Guías, en: Guides}
      briefing: {es: Briefings, en: Briefings}
    feed_size: 2
    """

TOPICS_YAML = """\
    climate:
      es: Clima
      en: Climate
    public-health:
      es: Salud pública
      en: Public health
    space:
      es: Espacio
      en: Space
    """

EXPERTS = {
    "ana-garcia": """\
        name: Ana García
        role:
          es: Epidemióloga
          en: Epidemiologist
        organisation: Instituto de Salud
        url: https://example.org/ana
        orcid: 0000-0002-1825-0097
        """,
    "john-smith": """\
        name: John Smith
        role:
          es: Climatólogo
          en: Climate scientist
        organisation: University of Somewhere
        """,
    "lucia-perez": """\
        name: Lucía Pérez
        role:
          es: Astrofísica
          en: Astrophysicist
        organisation: Observatorio del Sur
        """,
}

ARTICLES = {
    # A translation pair (same slug, two languages), with reactions.
    "articles/2024/heat-deaths.es.md": """\
        ---
        type: reaction
        title: El calor y la mortalidad
        published: 2024-07-10T18:00:00+02:00
        updated: 2024-07-11T10:00:00+02:00
        topics: [climate, public-health]
        summary: Un estudio estima las muertes por calor en Europa.
        source_url: https://example.org/es/heat-deaths
        study:
          title: Heat-attributable mortality in Europe
          journal: The Lancet
          doi: 10.5555/test.2024.0710
          url: https://doi.org/10.5555/test.2024.0710
          published: 2024-07-10T18:00:00+02:00
        reactions:
          - expert: ana-garcia
            conflicts: none
            quote: |
              ### ¿Es sólido el estudio?

              Sí, los métodos son los habituales.
          - expert: john-smith
            conflicts: not_responded
            translated_from: en
            quote: El trabajo confirma lo que ya sabíamos.
        ---
        El **calor** mata cada verano.
        """,
    "articles/2024/heat-deaths.en.md": """\
        ---
        type: reaction
        title: Heat and mortality
        published: 2024-07-10T18:00:00+02:00
        topics: [climate, public-health]
        summary: A study estimates heat deaths in Europe.
        reactions:
          - expert: ana-garcia
            conflicts: none
            translated_from: es
            quote: Yes, the methods are the usual ones.
          - expert: john-smith
            conflicts: not_responded
            quote: The work confirms what we knew.
        ---
        **Heat** kills every summer.
        """,
    "articles/2023/mars-samples.es.md": """\
        ---
        type: expert-voice
        title: Materia orgánica en Marte
        published: 2023-03-01T00:30:00+01:00
        topics: [space]
        summary: Una astrofísica analiza las muestras de Marte.
        reactions:
          - expert: lucia-perez
            conflicts: Ha asesorado a la agencia espacial en otro proyecto.
            via: SMC Demo Francia
            quote: Es un hallazgo prometedor, pero hay que ser prudentes.
        ---
        Texto del artículo.
        """,
    "articles/2025/screens-sleep.en.md": """\
        ---
        type: what-we-know
        title: What we know about screens and sleep
        published: 2025-01-15T09:00:00+01:00
        topics: [public-health]
        summary: What the evidence says about screens and teenagers' sleep.
        ---
        The evidence is mixed.
        """,
}


class ContentDir(type(Path())):  # type: ignore[misc]
    """The content folder's Path, plus helpers to change its files in a test."""

    def write(self, relative: str, text: str | bytes) -> Path:
        """Write ``text`` (dedented when it is ``str``) to ``relative``; return that file."""
        path = Path(self, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def remove(self, relative: str) -> None:
        """Delete the file ``relative``."""
        Path(self, relative).unlink()


def write_valid_content(root: Path) -> ContentDir:
    """Write the valid content folder at ``root``."""
    content = ContentDir(root)
    content.write("site.yaml", SITE_YAML)
    content.write("topics.yaml", TOPICS_YAML)
    for expert_id, text in EXPERTS.items():
        content.write(f"experts/{expert_id}.yaml", text)
    for relative, text in ARTICLES.items():
        content.write(relative, text)
    return content


@pytest.fixture
def make_content(tmp_path: Path) -> Callable[[], ContentDir]:
    """``make_content()`` writes a valid content folder and returns its Path.

    The Path also has ``write(relative, text)`` to overwrite or add a file (``str`` is
    dedented) and ``remove(relative)`` to delete one.
    """
    return lambda: write_valid_content(tmp_path / "content")


@pytest.fixture(scope="session")
def valid_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same valid folder, written once per session: read it, never change it."""
    return write_valid_content(tmp_path_factory.mktemp("valid") / "content")
