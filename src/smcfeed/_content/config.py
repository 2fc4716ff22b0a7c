"""The settings of a content folder: site.yaml, topics.yaml and experts/, with their errors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..exceptions import ContentError
from ..models import SLUG_RE, Expert, Localized, Site
from . import yamlio as _yaml
from .parse import _Collector


@dataclass
class SiteConfig:
    """site.yaml, topics.yaml and experts/ as last loaded, with their errors."""

    site: Site | None
    topics: dict[str, Localized] | None
    experts: dict[str, Expert]
    broken_experts: set[str]
    errors: list[ContentError]
    #: Things that load but an editor should look at.
    warnings: list[ContentError] = field(default_factory=list)

    def fingerprint(self) -> str:
        """What an article's verdict depends on, as a digest: verdicts saved with one
        fingerprint hold for settings with the same."""
        state = [
            # Not base_url: no verdict depends on it, and --base-url may change per start.
            self.site.model_dump(mode="json", exclude={"base_url"}) if self.site else None,
            self.topics,
            {key: expert.model_dump(mode="json") for key, expert in self.experts.items()},
            sorted(self.broken_experts),
        ]
        data = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
        return hashlib.blake2b(data, digest_size=16).hexdigest()


def load_config(out: _Collector, root: Path, base_url: str | None) -> SiteConfig:
    before = len(out.errors)
    site = _load_site(out, root / "site.yaml")
    if site is not None and base_url:
        site = site.model_copy(update={"base_url": base_url.rstrip("/")})
    languages = site.languages if site else []
    topics = _load_localized_map(out, root / "topics.yaml", languages)
    warnings: list[ContentError] = []
    experts, broken_experts = _load_experts(out, root / "experts", languages, warnings)
    return SiteConfig(site, topics, experts, broken_experts, out.errors[before:], warnings)


def _load_yaml_file(out: _Collector, path: Path, what: str) -> tuple[Any, _yaml.LineMap] | None:
    if not path.exists() and not path.is_symlink():
        out.add(path, None, f"is missing: every content folder needs {what}")
        return None
    text = out.read(path)
    if text is None:
        return None
    return out.yaml(path, text)


def _load_site(out: _Collector, path: Path) -> Site | None:
    parsed = _load_yaml_file(out, path, "its site settings")
    if parsed is None:
        return None
    return out.model(path, Site, *parsed)


def _load_localized_map(
    out: _Collector, path: Path, languages: list[str]
) -> dict[str, Localized] | None:
    parsed = _load_yaml_file(out, path, "its list of topics")
    if parsed is None:
        return None
    data, lines = parsed
    if not isinstance(data, dict) or not data:
        out.add(path, 1, "should list topics as 'slug:' with a label per language under each")
        return None
    result: dict[str, Localized] = {}
    for slug, labels in data.items():
        line = lines.get((str(slug),), 1)
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            out.add(path, line, f"topic '{slug}' is not a slug: use lowercase letters, digits, -")
            continue
        if not isinstance(labels, dict) or not all(
            isinstance(v, str) and v.strip() for v in labels.values()
        ):
            out.add(path, line, f"topic '{slug}' needs a label per language, e.g. es: Clima")
            continue
        missing = [lang for lang in languages if lang not in labels]
        unknown = [str(lang) for lang in labels if languages and lang not in languages]
        if missing:
            out.add(path, line, f"topic '{slug}' has no label for {', '.join(missing)}")
        elif unknown:
            out.add(path, line, f"topic '{slug}' has a label in unknown language {unknown[0]}")
        else:
            result[slug] = {str(k): v.strip() for k, v in labels.items()}
    return result


def _load_experts(
    out: _Collector, folder: Path, languages: list[str], warnings: list[ContentError]
) -> tuple[dict[str, Expert], set[str]]:
    """The valid experts by id, and the ids whose files are broken; adds to ``warnings``."""
    experts: dict[str, Expert] = {}
    broken: set[str] = set()
    if not folder.is_dir():
        out.add(folder, None, "is missing: the experts folder holds one file per expert")
        return experts, broken
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix not in (".yaml", ".yml"):
            out.add(path, None, "is not an expert file: name it <expert-id>.yaml")
            continue
        if not SLUG_RE.match(path.stem):
            out.add(path, None, "the expert id (file name) must be lowercase letters, digits, -")
            continue
        broken.add(path.stem)
        text = out.read(path)
        parsed = out.yaml(path, text) if text is not None else None
        if parsed is None:
            continue
        expert = out.model(path, Expert, *parsed)
        if expert is None:
            continue
        missing = [lang for lang in languages if lang not in expert.role]
        if missing:
            out.add(path, parsed[1].get(("role",)), f"'role' has no text for {', '.join(missing)}")
            continue
        broken.discard(path.stem)
        experts[path.stem] = expert
        organisation = expert.organisation.casefold()
        for lang, role in expert.role.items():
            if organisation in role.casefold():
                warnings.append(
                    ContentError(
                        out.rel(path),
                        parsed[1].get(("role", lang)) or parsed[1].get(("role",)),
                        f"'role' ({lang}) names the organisation '{expert.organisation}', "
                        "which is printed after it anyway: leave it out of the role",
                    )
                )
    return experts, broken
