# ruff: noqa: E501, UP031  (data: YAML and sentence templates are kept one per line)
"""Synthetic content folders for the benchmarks: N article files, deterministic from a seed.

    python bench/gen.py 1000 bench/work/content-1k [--seed 5]

Shape (see bench/README.md): site.yaml (feed_size 50), 30 topics, 500 experts, and N article
files in es and en (most slugs in both languages, some in one), each with 2–6 expert reactions
whose quotes are several Markdown paragraphs, some with question headings; text with accents
and punctuation. Dates run from 2013 to October 2026, plus a few embargoed items in 2030.

Files are written with plain string formatting (no YAML library): 100k articles take seconds.
A stamp file next to the folder (``<folder>.json``) records the parameters and the newest
Spanish article, so run.py can reuse a folder and knows which file to edit.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

GENERATOR_VERSION = 3
N_TOPICS = 30
N_EXPERTS = 500
FEED_SIZE = 50
FIRST = datetime(2013, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 10, 31, tzinfo=UTC)
EMBARGO_YEAR = 2030

SITE_YAML = (
    """\
base_url: https://feeds.bench.example
website: https://bench.example
timezone: Europe/Madrid
languages: [es, en]
default_language: es
title:
  es: Centro de Medios Científicos (banco de pruebas) — Reacciones de expertos
  en: Science Media Centre (benchmark) — Expert reactions
description:
  es: Reacciones de expertos independientes, guías y contexto sobre la ciencia que llega a las noticias. Contenido sintético para pruebas de rendimiento.
  en: Independent expert reactions, guides and background on the science behind the headlines. Synthetic content for benchmarks.
license:
  name: CC BY 4.0
  url: https://creativecommons.org/licenses/by/4.0/
  attribution:
    es: Publicado por el Centro de Medios Científicos bajo licencia CC BY 4.0. Cite la fuente y enlace al original.
    en: Published by the Science Media Centre under a CC BY 4.0 licence. Please credit the source and link to the original.
  credit:
    es: Centro de Medios Científicos
    en: Science Media Centre
types:
  reaction: {es: Reacciones, en: Reactions}
  expert-voice: {es: La voz del experto, en: Expert voice}
  what-we-know: {es: Qué sabemos, en: What we know}
  guide: {es: Guías, en: Guides}
  briefing: {es: Briefings, en: Briefings}
feed_size: %d
age_label_after_days: 365
websub_hubs: []
"""
    % FEED_SIZE
)

TOPICS = [
    ("climate", "Clima", "Climate"),
    ("public-health", "Salud pública", "Public health"),
    ("immunology", "Inmunología", "Immunology"),
    ("oncology", "Oncología", "Oncology"),
    ("neuroscience", "Neurociencia", "Neuroscience"),
    ("mental-health", "Salud mental", "Mental health"),
    ("nutrition", "Nutrición", "Nutrition"),
    ("environment", "Medio ambiente", "Environment"),
    ("infectious-diseases", "Enfermedades infecciosas", "Infectious diseases"),
    ("artificial-intelligence", "Inteligencia artificial", "Artificial intelligence"),
    ("space", "Espacio", "Space"),
    ("earth-sciences", "Ciencias de la Tierra", "Earth sciences"),
    ("science-communication", "Comunicación científica", "Science communication"),
    ("genetics", "Genética", "Genetics"),
    ("energy", "Energía", "Energy"),
    ("biodiversity", "Biodiversidad", "Biodiversity"),
    ("oceans", "Océanos", "Oceans"),
    ("agriculture", "Agricultura y alimentación", "Agriculture and food"),
    ("cardiology", "Cardiología", "Cardiology"),
    ("paediatrics", "Pediatría", "Paediatrics"),
    ("ageing", "Envejecimiento", "Ageing"),
    ("drugs-and-addiction", "Drogas y adicciones", "Drugs and addiction"),
    ("reproductive-health", "Salud reproductiva", "Reproductive health"),
    ("physics", "Física", "Physics"),
    ("chemistry", "Química", "Chemistry"),
    ("technology", "Tecnología", "Technology"),
    ("research-policy", "Política científica", "Research policy"),
    ("natural-hazards", "Riesgos naturales", "Natural hazards"),
    ("pollution", "Contaminación", "Pollution"),
    ("vaccines", "Vacunas", "Vaccines"),
]
assert len(TOPICS) == N_TOPICS

FIRST_NAMES = [
    "Álvaro",
    "Begoña",
    "Cristina",
    "Dámaso",
    "Elena",
    "Fátima",
    "Gonzalo",
    "Héctor",
    "Inés",
    "Joaquín",
    "Lucía",
    "María",
    "Nerea",
    "Óscar",
    "Paloma",
    "Ramón",
    "Sofía",
    "Tomás",
    "Úrsula",
    "Verónica",
    "Ximena",
    "Yolanda",
    "Zoé",
    "Íñigo",
    "Ángela",
    "Rocío",
    "Jesús",
    "Amparo",
    "Andrés",
    "Belén",
    "Claire",
    "Daniel",
    "Helena",
    "Jürgen",
    "Søren",
    "Zoë",
    "François",
    "Noémie",
    "Agnieszka",
    "Mónica",
    "Julián",
    "Asunción",
    "Nicolás",
    "Pilar",
    "Raúl",
    "Estíbaliz",
    "Germán",
    "Maite",
    "Adrián",
    "Irene",
]
SURNAMES = [
    "Benítez",
    "Caro",
    "Quintero",
    "Luengo",
    "Villalobos",
    "Dubois",
    "Achterberg",
    "Marković",
    "Ferreyra",
    "Brandt",
    "Sotomayor",
    "Esquivel",
    "Muñoz",
    "Peñalver",
    "Ibáñez",
    "Gómez",
    "Sánchez",
    "Martín",
    "Núñez",
    "Álvarez",
    "Domínguez",
    "Cañizares",
    "Ortúzar",
    "Zúñiga",
    "Echeverría",
    "Mújica",
    "Gutiérrez",
    "Hernández",
    "López",
    "Jiménez",
    "Pérez",
    "Rodríguez",
    "Fernández",
    "Díaz",
    "Ruiz",
    "Ramírez",
    "Vázquez",
    "Castaño",
    "Garcés",
    "Olmedo",
    "Arámburu",
    "Bermúdez",
    "Ríos",
    "Peña",
    "Soler",
    "Llorente",
    "Mateu",
    "Puigdomènech",
    "Ferrán",
    "Góngora",
    "Nyström",
    "Kowalczyk",
    "Müller",
]
POSITIONS = [
    ("Catedrática de {f} en la {o}", "Professor of {f} at the {oe}"),
    ("Investigador del CSIC en el {o}", "Research scientist at the {oe}"),
    ("Jefa del servicio de {f} del {o}", "Head of the {f} department at the {oe}"),
    ("Profesor titular de {f} de la {o}", "Associate professor of {f} at the {oe}"),
    ("Coordinadora del grupo de {f} del {o}", "Coordinator of the {f} group at the {oe}"),
    ("Investigadora posdoctoral en {f} en el {o}", "Postdoctoral researcher in {f} at the {oe}"),
    ("Director del {o} y especialista en {f}", "Director of the {oe} and {f} specialist"),
]
FIELDS = [
    ("Epidemiología", "Epidemiology"),
    ("Física del clima", "Climate physics"),
    ("Inmunología", "Immunology"),
    ("Oncología médica", "Medical oncology"),
    ("Neurología", "Neurology"),
    ("Psiquiatría", "Psychiatry"),
    ("Nutrición y dietética", "Nutrition and dietetics"),
    ("Ecología", "Ecology"),
    ("Microbiología", "Microbiology"),
    ("Ciencias de la computación", "Computer science"),
    ("Astrofísica", "Astrophysics"),
    ("Geología", "Geology"),
    ("Genética", "Genetics"),
    ("Cardiología", "Cardiology"),
    ("Pediatría", "Paediatrics"),
    ("Toxicología", "Toxicology"),
    ("Oceanografía", "Oceanography"),
    ("Bioestadística", "Biostatistics"),
]
ORGS = [
    ("Universidad Complutense de Madrid", "Complutense University of Madrid"),
    ("Universitat de Barcelona", "University of Barcelona"),
    ("Universidad de Sevilla", "University of Seville"),
    ("Instituto de Salud Carlos III", "Carlos III Health Institute"),
    ("Centro Nacional de Investigaciones Oncológicas", "Spanish National Cancer Research Centre"),
    ("Hospital Universitario La Paz", "La Paz University Hospital"),
    ("Instituto de Ciencias del Mar", "Institute of Marine Sciences"),
    ("Universidad de Granada", "University of Granada"),
    ("Universidad Nacional Autónoma de México", "National Autonomous University of Mexico"),
    ("Universidad de Buenos Aires", "University of Buenos Aires"),
    ("Pontificia Universidad Católica de Chile", "Pontifical Catholic University of Chile"),
    ("Instituto de Astrofísica de Canarias", "Institute of Astrophysics of the Canary Islands"),
    ("Barcelona Supercomputing Center", "Barcelona Supercomputing Center"),
    ("Hospital Clínic de Barcelona", "Hospital Clínic of Barcelona"),
    ("Universidad del País Vasco", "University of the Basque Country"),
]

# Sentence parts. Every combination reads as a plausible sentence.
ES = {
    "sep": ["."],
    "subj": [
        "El estudio, publicado en *{journal}*,",
        "Este trabajo",
        "El ensayo clínico",
        "La investigación, basada en datos de {n} participantes,",
        "El análisis",
        "Un equipo internacional",
        "La revisión sistemática",
        "El modelo propuesto por los autores",
        "El artículo",
        "Este metaanálisis, que reúne {k} estudios,",
    ],
    "verb": [
        "sugiere que",
        "concluye que",
        "muestra que",
        "no demuestra que",
        "apunta a que",
        "indica, con cautela, que",
        "confirma lo que ya sabíamos: que",
        "plantea que",
    ],
    "claim": [
        "la exposición prolongada al calor extremo aumenta un {p} % el riesgo de hospitalización",
        "los adolescentes que duermen menos de siete horas tienen peor rendimiento académico",
        "el nuevo fármaco reduce la progresión de la enfermedad en fases tempranas",
        "la contaminación del aire se asocia con más ingresos por problemas respiratorios",
        "las dietas ricas en ultraprocesados elevan la mortalidad cardiovascular",
        "el deshielo del Ártico se ha acelerado en la última década",
        "la vacuna protege frente a la infección grave durante al menos {m} meses",
        "el algoritmo acierta en el {p} % de los diagnósticos de imagen",
        "la pérdida de biodiversidad afecta a la polinización de cultivos clave",
        "el consumo moderado de alcohol no es inocuo para la salud",
    ],
    "qual": [
        "aunque el tamaño de la muestra es limitado.",
        "pero se trata de un estudio observacional.",
        "algo que habrá que confirmar en otras poblaciones.",
        "con un seguimiento de {m} meses.",
        "y los resultados son coherentes con investigaciones previas.",
        "si bien no establece una relación de causa y efecto.",
        "lo que tiene implicaciones claras para la salud pública.",
        "aunque los propios autores reconocen varias limitaciones.",
    ],
    "extra": [
        "Es importante no extrapolar estos datos a la población general.",
        "Los intervalos de confianza son amplios; conviene ser prudentes.",
        "¿Significa esto que debamos cambiar las recomendaciones? Todavía no.",
        "La metodología es sólida: aleatorización, doble ciego y un grupo control adecuado.",
        "Echo de menos un análisis por sexo y por edad, que habría sido muy útil.",
        "En España, la situación es algo distinta por el diseño del sistema sanitario.",
        "Hay que leer la letra pequeña: el efecto, aunque significativo, es modesto.",
        "Los datos proceden de registros hospitalarios de {n} centros en {k} países.",
        "No es la primera vez que se observa este fenómeno, pero sí la más rigurosa.",
        "Sería un error interpretar este resultado como una «cura».",
    ],
    "question": [
        "¿Es sólido el estudio?",
        "¿Qué limitaciones tiene?",
        "¿Qué implicaciones tiene?",
        "¿Se basa el estudio en datos y métodos sólidos?",
        "¿Qué falta por saber?",
        "¿Cómo encaja con la evidencia previa?",
    ],
    "title": [
        "Reacción: {claim}, según un nuevo estudio",
        "Un estudio en *{journal}* afirma que {claim}",
        "¿{Claim}? Lo que dicen los expertos",
        "Qué sabemos sobre si {claim}",
        "Expertos analizan un trabajo que concluye que {claim}",
    ],
    "conflicts": [
        "Ha recibido financiación pública para proyectos relacionados con este tema.",
        "Ha participado como asesor en comités de la Agencia Europea del Medicamento.",
        "Ha recibido honorarios por conferencias de varias compañías farmacéuticas.",
    ],
}
EN = {
    "sep": [","],
    "subj": [
        "The study, published in *{journal}*,",
        "This work",
        "The clinical trial",
        "The research, based on data from {n} participants,",
        "The analysis",
        "An international team",
        "The systematic review",
        "The authors' model",
        "The paper",
        "This meta-analysis, pooling {k} studies,",
    ],
    "verb": [
        "suggests that",
        "concludes that",
        "shows that",
        "does not show that",
        "points to the idea that",
        "indicates, cautiously, that",
        "confirms what we already knew: that",
        "argues that",
    ],
    "claim": [
        "prolonged exposure to extreme heat raises the risk of hospital admission by {p}%",
        "teenagers who sleep less than seven hours do worse at school",
        "the new drug slows disease progression in its early stages",
        "air pollution is linked to more admissions for breathing problems",
        "diets rich in ultra-processed food raise cardiovascular mortality",
        "Arctic ice melt has accelerated over the last decade",
        "the vaccine protects against severe infection for at least {m} months",
        "the algorithm gets {p}% of imaging diagnoses right",
        "biodiversity loss is affecting the pollination of key crops",
        "moderate drinking is not harmless to health",
    ],
    "qual": [
        "although the sample is small.",
        "but it is an observational study.",
        "something that needs confirming in other populations.",
        "with {m} months of follow-up.",
        "and the results agree with earlier research.",
        "though it does not establish cause and effect.",
        "which has clear implications for public health.",
        "although the authors themselves acknowledge several limitations.",
    ],
    "extra": [
        "We should not extrapolate these data to the general population.",
        "The confidence intervals are wide; caution is warranted.",
        "Does this mean we should change the guidelines? Not yet.",
        "The methods are solid: randomised, double-blind, with a proper control group.",
        "I miss an analysis by sex and age, which would have been very useful.",
        "In Spain, the picture is somewhat different because of how the health system works.",
        "Read the small print: the effect, although significant, is modest.",
        "The data come from hospital records at {n} sites in {k} countries.",
        "It is not the first time this has been seen, but it is the most rigorous.",
        'It would be a mistake to read this result as a "cure".',
    ],
    "question": [
        "Is the study robust?",
        "What are its limitations?",
        "What are the implications?",
        "Is the study based on solid data and methods?",
        "What do we still not know?",
        "How does it fit with previous evidence?",
    ],
    "title": [
        "Expert reaction: {claim}, says a new study",
        "A study in *{journal}* claims that {claim}",
        "{Claim}? What the experts say",
        "What we know about whether {claim}",
        "Experts weigh up a paper concluding that {claim}",
    ],
    "conflicts": [
        "She has received public funding for projects related to this subject.",
        "He has advised committees of the European Medicines Agency.",
        "Has received speaker fees from several pharmaceutical companies.",
    ],
}
TEXT = {"es": ES, "en": EN}
JOURNALS = [
    "Nature",
    "Science",
    "The Lancet",
    "The BMJ",
    "JAMA",
    "Nature Medicine",
    "PLOS ONE",
    "The New England Journal of Medicine",
    "Cell",
    "Nature Climate Change",
    "eLife",
]
TYPES = ["reaction"] * 14 + ["expert-voice"] * 2 + ["what-we-know"] * 2 + ["guide", "briefing"]
VIA = ["Science Media Centre Germany", "Australian Science Media Centre", "SMC UK", "SMC Aotearoa"]


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fill(rng: random.Random, template: str, sep: str = ".") -> str:
    if "{" not in template:
        return template
    return template.format(
        journal=rng.choice(JOURNALS),
        n=f"{rng.randint(120, 98000):,}".replace(",", sep),
        k=rng.randint(3, 40),
        p=rng.randint(5, 48),
        m=rng.randint(6, 36),
    )


def _sentence(rng: random.Random, t: dict[str, list[str]]) -> str:
    sep = t["sep"][0]
    if rng.random() < 0.35:
        return _fill(rng, rng.choice(t["extra"]), sep)
    return _fill(
        rng,
        f"{rng.choice(t['subj'])} {rng.choice(t['verb'])} {rng.choice(t['claim'])}, "
        f"{rng.choice(t['qual'])}",
        sep,
    )


def _paragraph(rng: random.Random, t: dict[str, list[str]], lo: int, hi: int) -> str:
    return " ".join(_sentence(rng, t) for _ in range(rng.randint(lo, hi)))


def _quote(
    rng: random.Random, t: dict[str, list[str]], most: int = 3, sentences: tuple[int, int] = (2, 4)
) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, most)):
        if rng.random() < 0.3:
            parts.append("### " + rng.choice(t["question"]))
        parts.append(_paragraph(rng, t, *sentences))
    return "\n\n".join(parts)


def _title(rng: random.Random, t: dict[str, list[str]], claim: str) -> str:
    template = rng.choice(t["title"])
    claim = _fill(rng, claim)
    return (
        template.replace("{Claim}", claim[:1].upper() + claim[1:])
        .replace("{claim}", claim)
        .replace("{journal}", rng.choice(JOURNALS))
    )


def _expert_ids(rng: random.Random) -> list[tuple[str, str, str, str, str]]:
    """(id, name, role es, role en, organisation) for N_EXPERTS experts."""
    out: list[tuple[str, str, str, str, str]] = []
    seen: set[str] = set()
    while len(out) < N_EXPERTS:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
        ident = _slugify(name)
        if ident in seen:
            continue
        seen.add(ident)
        fes, fen = rng.choice(FIELDS)
        oes, oen = rng.choice(ORGS)
        pes, pen = rng.choice(POSITIONS)
        out.append(
            (ident, name, pes.format(f=fes.lower(), o=oes), pen.format(f=fen.lower(), oe=oen), oes)
        )
    return out


def _slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ø", "o")).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in plain.lower()).split())


#: Article shapes: (reactions per article, body paragraphs, most quote paragraphs, sentences
#: per body or quote paragraph). ``full`` makes the large hot feed
#: (50 items, about 450 KB); ``mid`` a mid-size one (50 items, about 140 KB: one expert
#: reaction on about half of the articles).
PROFILES = {"full": ((2, 6), (2, 4), 3, (2, 4)), "mid": ((0, 1), (1, 1), 1, (1, 1))}


def generate(n: int, out: Path, seed: int = 5, profile: str = "full") -> dict[str, object]:
    """Write a content folder with ``n`` article files to ``out`` (replacing it)."""
    (react_lo, react_hi), (body_lo, body_hi), quote_most, sentences = PROFILES[profile]
    rng = random.Random(seed * 1_000_003 + n)
    if out.exists():
        shutil.rmtree(out)
    (out / "experts").mkdir(parents=True)
    (out / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    with open(out / "topics.yaml", "w", encoding="utf-8") as f:
        for slug, es, en in TOPICS:
            f.write(f"{slug}:\n  es: {es}\n  en: {en}\n")
    experts = _expert_ids(rng)
    for i, (ident, name, role_es, role_en, org) in enumerate(experts):
        lines = [
            f"name: {name}",
            "role:",
            f"  es: {role_es}",
            f"  en: {role_en}",
            f"organisation: {org}",
        ]
        if i % 3 == 0:
            lines.append(f"url: https://bench.example/expertos/{ident}")
        if i % 4 == 0:
            d = [rng.randint(0, 9) for _ in range(15)]
            digits = "".join(map(str, d))
            lines.append(f"orcid: {digits[:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:15]}X")
        (out / "experts" / f"{ident}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expert_ids = [e[0] for e in experts]
    topic_slugs = [t[0] for t in TOPICS]

    span = (LAST - FIRST).total_seconds()
    years: set[str] = set()
    written = 0
    newest: tuple[datetime, str] | None = None
    slug_no = 0
    while written < n:
        slug_no += 1
        langs = ["es", "en"] if rng.random() < 0.7 else [rng.choice(["es", "en"])]
        langs = langs[: n - written]
        if rng.random() < 0.0005:
            published = datetime(EMBARGO_YEAR, 1, 1, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 300)
            )
        else:
            published = FIRST + timedelta(seconds=int(rng.random() * span))
        published = published.replace(second=0)
        kind = rng.choice(TYPES)
        topics = rng.sample(topic_slugs, rng.randint(1, 3))
        reactors = rng.sample(expert_ids, rng.randint(react_lo, react_hi))
        claim_index = rng.randrange(len(ES["claim"]))
        words = _slugify(ES["claim"][claim_index].replace("{p}", "").replace("{m}", ""))
        slug = "-".join(words.split("-")[:6]) + f"-{slug_no}"
        year = f"{published.year:04d}"
        if year not in years:
            (out / "articles" / year).mkdir(parents=True, exist_ok=True)
            years.add(year)
        doi = f"10.5555/bench.{published.year}.{slug_no}"
        updated = published + timedelta(hours=rng.randint(1, 72)) if rng.random() < 0.2 else None
        conflicts = [rng.random() for _ in reactors]
        for lang in langs:
            t = TEXT[lang]
            title = _title(rng, t, t["claim"][claim_index])
            stamp = published.isoformat()
            front = [
                "---",
                f"type: {kind}",
                f"title: {yaml_str(title)}",
                f"published: {stamp}",
            ]
            if updated is not None:
                front.append(f"updated: {updated.isoformat()}")
            front += [
                f"topics: [{', '.join(topics)}]",
                "summary: >-",
                "  " + _paragraph(rng, t, *((2, 3) if profile == "full" else sentences)),
                f"source_url: https://bench.example/{lang}/{kind}/{slug}",
                "study:",
                f"  title: {yaml_str(_fill(rng, rng.choice(t['claim'])).capitalize())}",
                f"  journal: {rng.choice(JOURNALS)}",
                f"  doi: {doi}",
                f"  url: https://doi.org/{doi}",
                f"  published: {stamp}",
            ]
            if reactors:
                front.append("reactions:")
            for expert, c in zip(reactors, conflicts, strict=True):
                front.append(f"  - expert: {expert}")
                if c < 0.5:
                    front.append("    conflicts: none")
                elif c < 0.7:
                    front.append("    conflicts: not_responded")
                else:
                    front.append(f"    conflicts: {yaml_str(rng.choice(t['conflicts']))}")
                if c > 0.93:
                    front.append(f"    via: {VIA[int(c * 1000) % len(VIA)]}")
                    front.append("    translated_from: de")
                front.append("    quote: |")
                front += [
                    ("      " + line) if line else ""
                    for line in _quote(rng, t, quote_most, sentences).split("\n")
                ]
            front.append("---")
            body = (
                "\n\n".join(
                    _paragraph(rng, t, *sentences) for _ in range(rng.randint(body_lo, body_hi))
                )
                + f"\n\n[{'Estudio original' if lang == 'es' else 'Original study'}](https://doi.org/{doi})\n"
            )
            name = f"{slug}.{lang}.md"
            with open(out / "articles" / year / name, "w", encoding="utf-8") as f:
                f.write("\n".join(front) + "\n" + body)
            written += 1
            if (
                lang == "es"
                and published.year < EMBARGO_YEAR
                and (newest is None or (published, name) > newest)
            ):
                newest = (published, f"articles/{year}/{name}")
    stamp_data: dict[str, object] = {
        "generator": GENERATOR_VERSION,
        "articles": n,
        "seed": seed,
        "profile": profile,
        "newest_es": newest[1] if newest else None,
    }
    return stamp_data


def stamp_path(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def ensure(
    n: int, out: Path, seed: int = 5, force: bool = False, profile: str = "full"
) -> tuple[dict[str, object], float]:
    """The folder's stamp, generating it unless a matching one is there; and seconds spent."""
    stamp = stamp_path(out)
    if not force and stamp.exists() and out.is_dir():
        data = json.loads(stamp.read_text())
        if (data.get("generator"), data.get("articles"), data.get("seed")) == (
            GENERATOR_VERSION,
            n,
            seed,
        ) and data.get("profile", "full") == profile:
            return data, 0.0
    stamp.unlink(missing_ok=True)
    start = time.perf_counter()
    data = generate(n, out, seed, profile)
    elapsed = time.perf_counter() - start
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, stamp)
    return data, elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("articles", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--profile", choices=sorted(PROFILES), default="full")
    args = p.parse_args()
    data, elapsed = ensure(args.articles, args.out, args.seed, force=True, profile=args.profile)
    print(
        f"{args.out}: {args.articles} articles in {elapsed:.1f} s; newest es: {data['newest_es']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
