"""One ingest configuration: every setting of an ingest, in one frozen, picklable value.

`IngestConfig` has a section per concern (reading, cleaning, chrome, repeats, dedup,
execution). Each setting is written once, as a dataclass field whose metadata (see
`setting`) holds its help text, its range and, where it differs from the field name, its
command-line flag and environment variable; the CLI options, the `newsfold.toml` keys, the
`NEWSFOLD_…` variables, validation and `newsfold config`'s listing are all generated from
the fields. A new setting is one field here.

Where values come from (`load_config`), later ones winning, like dlt or dbt profiles:
defaults < `newsfold.toml` (the working directory's, or `--config FILE`) < environment
variables < command-line flags. Every error in a file, a variable or a flag is one line
that names where the bad value came from.

`drops.parameters` records the whole configuration (`IngestConfig.to_dict`): the dedup
parameters at the top level, where they always were, and the other sections beside them.
The parameters the warehouse's index depends on (`index_parameters`) are compared with
the warehouse's at every ingest (see flows/ingest.py).

Stdlib only: `newsfold --help` builds its options from this module.
"""
from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

CONFIG_FILE = "newsfold.toml"
ENV_PREFIX = "NEWSFOLD_"
# NEWSFOLD_ variables that are not ingest settings (and so not unknown keys)
OTHER_ENV = {"NEWSFOLD_WAREHOUSE", "NEWSFOLD_EXTENSION_DIR", "NEWSFOLD_FAIL_AT", "NEWSFOLD_KILL_AT",
             "NEWSFOLD_TEST_MARK"}


class ConfigError(ValueError):
    """A bad setting; the message is one line. `key`: the setting, when one is to blame."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def setting(default: Any, help: str, *, flag: str | None = None, env: str | None = None,
            key: str | None = None, metavar: str | None = None, min: float | None = None,
            max: float | None = None) -> Any:
    """A configuration field. `key` names the setting outside its section (argparse dest,
    default the field name; unique across sections), `flag` defaults to --key with dashes,
    `env` to NEWSFOLD_KEY."""
    return field(default=default, metadata={"help": help, "flag": flag, "env": env, "key": key,
                                            "metavar": metavar, "min": min, "max": max})


def _check_ranges(section) -> None:
    for f in fields(section):
        value, meta = getattr(section, f.name), f.metadata
        if isinstance(value, str) and not value:
            raise ConfigError(f"{_key(f)} needs a value", _key(f))
        if value is None or isinstance(value, (bool, str)):
            continue
        if meta.get("min") is not None and value < meta["min"]:
            raise ConfigError(f"{_key(f)} must be at least {meta['min']:g}", _key(f))
        if meta.get("max") is not None and value > meta["max"]:
            raise ConfigError(f"{_key(f)} must be at most {meta['max']:g}", _key(f))


@dataclass(frozen=True)
class ReadingConfig:
    max_bytes: int = setting(20 * 1024 * 1024, "files (and records) larger than this are rejected, reason "
                             "too_large", metavar="BYTES", min=1)
    follow_symlinks: bool = setting(False, "read files that symlinks inside the folders point to outside the "
                                    "given paths (otherwise such links are rejected, reason symlink_outside_inputs)")
    # which record fields (JSON, JSONL, CSV/TSV, Parquet) hold what; the defaults read news-please exports
    text_field: str = setting("text", "record field holding the article text", metavar="NAME")
    html_field: str = setting("html", "record field holding the page's HTML, extracted like an HTML file when a "
                              "record has no text", metavar="NAME")
    title_field: str = setting("title", "record field holding the headline", metavar="NAME")
    url_field: str = setting("url", "record field holding the article's URL", metavar="NAME")
    date_field: str = setting("date_publish", "record field holding the publication date", metavar="NAME")
    byline_field: str = setting("authors", "record field holding the author(s): a string or a list",
                                metavar="NAME")
    source_field: str = setting("source_domain", "record field holding the site (chrome is learnt per site)",
                                metavar="NAME")
    fetched_field: str = setting("date_download", "record field holding when the crawler fetched the page",
                                 metavar="NAME")
    id_field: str | None = setting(None, "record field holding a stable record id: a record is then known by "
                                   "its file and id instead of its line number", metavar="NAME")

    def __post_init__(self):
        _check_ranges(self)

    def field_map(self):
        """The record fields as readers.FieldMap."""
        from .readers import FieldMap

        return FieldMap(text=self.text_field, html=self.html_field, title=self.title_field, url=self.url_field,
                        date=self.date_field, byline=self.byline_field, source=self.source_field,
                        fetched=self.fetched_field, id=self.id_field)


@dataclass(frozen=True)
class CleaningConfig:
    min_words: int = setting(20, "a document with fewer words left after cleaning is rejected, reason no_article_text",
                             metavar="N", min=1)

    def __post_init__(self):
        _check_ranges(self)


@dataclass(frozen=True)
class ChromeConfig:
    min_docs: int = setting(4, "different articles of a site that must share a sentence or gram for it to be "
                            "chrome", key="chrome_min_docs", metavar="N", min=2)
    gram_words: int = setting(8, "words per gram (the unit long chrome is matched in)", key="chrome_gram_words",
                              metavar="N", min=2, max=64)
    min_own_words: int = setting(60, "words of its own a page needs to count as a different article",
                                 key="chrome_min_own_words", metavar="N", min=0)
    min_run: int = setting(16, "chrome words in a row that are cut from inside a paragraph", key="chrome_min_run",
                           metavar="N", min=1)

    def __post_init__(self):
        _check_ranges(self)


@dataclass(frozen=True)
class RepeatsConfig:
    min_words: int = setting(6, "a repeated paragraph (or one next to it) this long is collapsed",
                             key="min_repeat_words", metavar="N", min=1)

    def __post_init__(self):
        _check_ranges(self)


@dataclass(frozen=True)
class DedupParams:
    """How documents are fingerprinted, matched and clustered (see pipeline/dedup.py)."""

    shingle_size: int = setting(5, "words per shingle", metavar="K", min=1, max=20)
    num_perm: int = setting(128, "MinHash permutations", metavar="N", min=1)
    bands: int = setting(32, "LSH bands; bands x rows must equal num-perm", metavar="B", min=1)
    rows: int = setting(4, "rows per LSH band", metavar="R", min=1)
    jaccard_threshold: float = setting(0.5, "estimated Jaccard at or above which a copy is a near duplicate",
                                       flag="--jaccard", metavar="J", min=0, max=1)
    containment_threshold: float = setting(0.8, "share of a copy's shingles inside the canonical for it to count "
                                           "as contained", flag="--containment", metavar="C", min=0, max=1)
    switch_ratio: float = setting(1.2, "a new copy must be this much larger to take over as canonical",
                                  metavar="X", min=1)
    # Lead bands: a small MinHash over each document's first `lead_shingles`
    # shingles. A teaser holding the first 20-50 % of an article has a whole-text
    # Jaccard of only 0.2-0.5, which the main bands often miss, but its lead is
    # the article's lead. Candidates found this way still pass verification.
    lead_shingles: int = setting(40, "how many first shingles the lead bands cover", metavar="N", min=1)
    lead_bands: int = setting(4, "extra LSH bands over each document's first shingles, to find teasers; 0 turns "
                              "them off", metavar="B", min=0)
    lead_rows: int = setting(4, "rows per lead band", metavar="R", min=1)
    # A photo caption, a dateline or a kicker in front of a story shifts its lead, so lead
    # bands are taken over several windows: from the text's start and from each of its next
    # lead_windows - 1 sentence starts within the first lead_reach characters. The windows'
    # bands share band ids, so a teaser's lead finds the story's lead behind a caption.
    lead_windows: int = setting(4, "lead windows: the text's start and its next sentence starts",
                                metavar="N", min=1)
    lead_reach: int = setting(1500, "characters from the start within which lead windows start", metavar="N",
                              min=0)
    seed: int = setting(1, "seed of the MinHash permutations", key="minhash_seed", metavar="N", min=0)
    # Two documents with the same canonical URL (see readers.canonical_url) are one article
    # when their texts are at least this similar, even under jaccard_threshold: a corrected
    # or re-edited article republished at its URL. See dedup.same_url_match.
    url_jaccard_threshold: float = setting(0.2, "documents with the same canonical URL fold from this estimated "
                                           "Jaccard on, below --jaccard", flag="--url-jaccard", metavar="J",
                                           min=0, max=1)
    # Common content (see dedup.common_minima): a signature minimum that this many different
    # stories carry is left out of verification. 0 turns it off. On the real sets 3-8 all
    # keep a site's headline block from merging its pages; on the generated corpus, whose
    # stories have up to ten differently damaged copies, 3 costs recall (0.991 -> 0.938)
    # and 8 almost none (0.989).
    common_df: int = setting(8, "content (a signature minimum) that this many different stories carry, in the "
                             "drop and the warehouse, is boilerplate and decides nothing; 0 turns it off",
                             metavar="N", min=0)
    # A pair must keep this many signature positions whose minimum is not common, or its
    # content is all common and it proves nothing.
    min_informative: int = setting(12, "signature positions with uncommon content a pair must keep to be "
                                   "judged", metavar="N", min=0)
    # Copies of one story count once in the document frequency: documents whose plain
    # signatures agree this much (or one holds the other this much) are one story.
    family_jaccard: float = setting(0.8, "documents this similar count as one story for --common-df",
                                    metavar="J", min=0, max=1)
    family_containment: float = setting(0.9, "documents one of which holds the other this much count as one "
                                        "story for --common-df", metavar="C", min=0, max=1)

    def __post_init__(self):
        _check_ranges(self)
        if self.bands * self.rows != self.num_perm:
            raise ConfigError(f"bands x rows ({self.bands} x {self.rows}) must equal num_perm ({self.num_perm})")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ExecutionConfig:
    batch_size: int = setting(500, "documents per processing batch (and per staging file)", metavar="N", min=1)
    workers: int | None = setting(None, "local worker processes for the batches; unset: the CPUs this process "
                                        "may use (a container's CPU limit included)",
                                  metavar="N", min=1)
    dask_address: str | None = setting(None, "run the batches on the Dask cluster whose scheduler is at ADDRESS, "
                                       "e.g. tcp://10.0.0.5:8786; the warehouse folder must be reachable at the "
                                       "same path from every worker (see README, Performance)", flag="--dask",
                                       metavar="ADDRESS")
    wait_s: float = setting(0.0, "if another ingest is writing, wait this long for it instead of failing at once",
                            flag="--wait", metavar="SECONDS", min=0)

    def __post_init__(self):
        _check_ranges(self)


SECTIONS: dict[str, type] = {"reading": ReadingConfig, "cleaning": CleaningConfig, "chrome": ChromeConfig,
                             "repeats": RepeatsConfig, "dedup": DedupParams, "execution": ExecutionConfig}
# What the warehouse's LSH index and signatures depend on: an ingest must use the warehouse's.
INDEX_KEYS = ("shingle_size", "num_perm", "bands", "rows", "seed", "lead_shingles", "lead_bands", "lead_rows",
              "lead_windows", "lead_reach")


@dataclass(frozen=True)
class IngestConfig:
    reading: ReadingConfig = field(default_factory=ReadingConfig)
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    chrome: ChromeConfig = field(default_factory=ChromeConfig)
    repeats: RepeatsConfig = field(default_factory=RepeatsConfig)
    dedup: DedupParams = field(default_factory=DedupParams)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)

    def with_values(self, **values: Any) -> IngestConfig:
        """A copy with settings replaced by key (e.g. batch_size=2, jaccard_threshold=0.6), validated."""
        changed: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            if key not in SETTINGS:
                raise ConfigError(f"unknown setting {key!r}{_suggest(key, SETTINGS)}", key)
            section, name = SETTINGS[key]
            changed.setdefault(section, {})[name] = value
        return replace(self, **{s: replace(getattr(self, s), **v) for s, v in changed.items()})

    def to_dict(self) -> dict:
        """As recorded in drops.parameters: the dedup parameters at the top level (where they
        always were), the algorithm version of the signatures, and the other sections."""
        out = self.dedup.to_dict()
        out["algorithm_version"] = algorithm_version()
        out.update({name: asdict(getattr(self, name)) for name in SECTIONS if name != "dedup"})
        return out

    def index_parameters(self) -> dict:
        """The parameters the warehouse's signatures and band index depend on."""
        return {**{k: getattr(self.dedup, k) for k in INDEX_KEYS}, "algorithm_version": algorithm_version()}


def algorithm_version() -> int:
    from .signatures import ALGORITHM_VERSION  # numpy: imported only when recording or comparing

    return ALGORITHM_VERSION


def _key(f) -> str:
    return f.metadata.get("key") or f.name


def flag_of(f) -> str:
    return f.metadata.get("flag") or "--" + _key(f).replace("_", "-")


def env_of(f) -> str:
    return f.metadata.get("env") or ENV_PREFIX + _key(f).upper()


# setting key -> (section, field name); keys are unique across sections
SETTINGS: dict[str, tuple[str, str]] = {_key(f): (s, f.name) for s, cls in SECTIONS.items() for f in fields(cls)}
_FIELDS = {(s, f.name): f for s, cls in SECTIONS.items() for f in fields(cls)}
assert len(SETTINGS) == len(_FIELDS), "setting keys must be unique across sections"


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def index_mismatch(stored: Mapping[str, Any], config: IngestConfig) -> dict[str, tuple[Any, Any]]:
    """key -> (warehouse's, this ingest's) for the index parameters that differ; keys the
    warehouse did not record (warehouses from before they were) are not compared."""
    mine = config.index_parameters()
    return {k: (stored[k], v) for k, v in mine.items() if k in stored and stored[k] != v}


def refusal(warehouse: str, stored: Mapping[str, Any], config: IngestConfig) -> str | None:
    """The one-line error for an ingest whose index parameters differ from the warehouse's."""
    diff = index_mismatch(stored, config)
    if not diff:
        return None
    theirs = ", ".join(f"{k}={a}" for k, (a, _) in diff.items())
    ours = ", ".join(f"{k}={b}" for k, (_, b) in diff.items())
    # the index parameters are dedup fields (the algorithm version has no flag)
    flags = " ".join(f"{flag_of(_FIELDS['dedup', k])} {b}" for k, (_, b) in diff.items() if ("dedup", k) in _FIELDS)
    how = (f"or re-fingerprint it into a new warehouse: newsfold reindex -w {warehouse} --into NEW_WAREHOUSE "
           f"{flags}" if flags else "or ingest into a new warehouse")
    return (f"warehouse {warehouse} was indexed with {theirs}, this ingest uses {ours}: ingest with the "
            f"warehouse's parameters, {how}")


def check_index_parameters(warehouse: str | os.PathLike, config: IngestConfig) -> None:
    """Refuse an ingest whose index parameters (shingle size, num_perm, bands, rows, seed, lead
    bands, algorithm version) differ from those the warehouse's signatures and band index were
    made with: its copies would silently stop matching the warehouse's documents."""
    if not (Path(warehouse) / "catalog.sqlite").exists():
        return
    from .warehouse import Warehouse

    with Warehouse(warehouse, read_only=True) as wh:
        check_index_parameters_of(wh, warehouse, config)


def check_index_parameters_of(wh, warehouse: str | os.PathLike, config: IngestConfig) -> None:
    """check_index_parameters on an open warehouse (`wh`, a pipeline.warehouse.Warehouse)."""
    from .warehouse import WarehouseError

    message = refusal(str(warehouse), wh.index_parameters() or {}, config)
    if message:
        raise WarehouseError(message)


# --- where values come from --------------------------------------------------------------

@dataclass
class Resolved:
    """An effective configuration and where each setting came from (key -> source)."""

    config: IngestConfig
    sources: dict[str, str]
    file: Path | None = None


_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "int | None": int, "str | None": str}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _parse_text(f, text: str) -> Any:
    """A setting's value from an environment variable or a flag."""
    kind = _TYPES[f.type]
    if text == "" and "None" in f.type:
        return None
    if kind is bool:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError("expected true or false")
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"expected {'an integer' if kind is int else 'a number'}") from None


def _check_type(f, value: Any) -> Any:
    """A setting's value from the TOML file, type-checked (an int is a valid float)."""
    kind = _TYPES[f.type]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    raise ValueError(f"expected {names[kind]}, got {value!r}")


_FIELD_SECTIONS = {f.name: section for section, cls in SECTIONS.items() for f in fields(cls)}


def read_config_file(path: Path) -> dict[str, tuple[Any, str]]:
    """key -> (value, source) from a newsfold.toml: [section] tables of settings."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # an editor's UTF-16 or Latin-1: the error named no file
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    out = {}
    for section, table in data.items():
        if section in _FIELD_SECTIONS and not isinstance(table, dict):  # `batch_size = 200` above any [section]
            raise ConfigError(f"{path}: {section} is outside a section: put it under [{_FIELD_SECTIONS[section]}]")
        if section in SECTIONS and not isinstance(table, dict):
            raise ConfigError(f"{path}: {section} is a section: write [{section}] on a line of its own, its "
                              "settings below it")
        if section not in SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]{_suggest(section, SECTIONS)}; sections: "
                              f"{', '.join(SECTIONS)}")
        names = {f.name: f for f in fields(SECTIONS[section])}
        for name, value in table.items():
            if name not in names:
                raise ConfigError(f"{path}: unknown key {name!r} in [{section}]{_suggest(name, names)}")
            where = f"{path} [{section}] {name}"
            try:
                out[_key(names[name])] = (_check_type(names[name], value), where)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
    return out


def read_env(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """key -> (value, source) from NEWSFOLD_ variables; an unknown one is an error."""
    by_env = {env_of(f): f for f in _FIELDS.values()}
    out = {}
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX) or name in OTHER_ENV:
            continue
        if name not in by_env:
            raise ConfigError(f"unknown environment variable {name}{_suggest(name, by_env)}")
        try:
            out[_key(by_env[name])] = (_parse_text(by_env[name], text), f"env {name}")
        except ValueError as exc:
            raise ConfigError(f"{name}={text!r}: {exc}") from None
    return out


def read_cli(values: Mapping[str, Any]) -> dict[str, tuple[Any, str]]:
    """key -> (value, source) from parsed flags (argparse dests = setting keys; absent: not given)."""
    out = {}
    for key, value in values.items():
        if key not in SETTINGS:
            continue
        f = _FIELDS[SETTINGS[key]]
        if isinstance(value, str) and _TYPES[f.type] is not str:
            try:
                value = _parse_text(f, value)
            except ValueError as exc:
                raise ConfigError(f"{flag_of(f)} {value}: {exc}") from None
        out[key] = (value, flag_of(f))
    return out


def load_config(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                config_file: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None) -> Resolved:
    """The effective configuration: defaults < file < env < CLI (see module docstring).

    config_file: --config FILE (must exist); otherwise `newsfold.toml` in `cwd` if there is one.
    """
    path = Path(config_file) if config_file is not None else Path(cwd or os.getcwd()) / CONFIG_FILE
    if config_file is not None and not path.is_file():
        raise ConfigError(f"no such config file: {config_file}")
    found = path if path.is_file() else None
    chosen: dict[str, tuple[Any, str]] = {}
    if found:
        chosen.update(read_config_file(found))
    chosen.update(read_env(os.environ if env is None else env))
    chosen.update(read_cli(cli or {}))
    sections: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for key, (value, _) in chosen.items():
        section, name = SETTINGS[key]
        sections[section][name] = value
    built = {}
    for s, cls in SECTIONS.items():
        try:
            built[s] = cls(**sections[s])
        except ConfigError as exc:
            if exc.key in chosen:
                value, source = chosen[exc.key]
                sep = "=" if source.startswith("env") else " " if source.startswith("--") else " = "
                raise ConfigError(f"{source}{sep}{value!r}: {exc}") from None
            given = sorted({src for k, (_, src) in chosen.items() if SETTINGS[k][0] == s})
            raise ConfigError(f"{exc} (set by {', '.join(given)})" if given else str(exc)) from None
    sources = {key: chosen[key][1] if key in chosen else "default" for key in SETTINGS}
    return Resolved(IngestConfig(**built), sources, found)


# --- the command line and `newsfold config` -------------------------------------------------

SECTION_TITLES = {"reading": "reading (record fields: JSON, JSONL, CSV/TSV and Parquet files)", "cleaning": "cleaning",
                  "chrome": "site chrome", "repeats": "repeated paragraphs", "dedup": "dedup parameters",
                  "execution": "where batches run"}


def _shown(value: Any) -> str:
    return "unset" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def add_cli_options(parser: argparse.ArgumentParser, sections=tuple(SECTIONS)) -> None:
    """One option per setting (dest = its key; absent when not given, so the resolver knows
    a flag from a default), grouped by section, help and default from the field."""
    for s in sections:
        group = parser.add_argument_group(SECTION_TITLES[s])
        for f in fields(SECTIONS[s]):
            help = f"{f.metadata['help']} (default: {_shown(f.default)}; ${env_of(f)})".replace("%", "%%")
            kw: dict[str, Any] = {"dest": _key(f), "default": argparse.SUPPRESS, "help": help}
            if f.type == "bool":
                kw["action"] = argparse.BooleanOptionalAction
            else:
                kw["metavar"] = f.metadata.get("metavar")
            group.add_argument(flag_of(f), **kw)


def describe(resolved: Resolved) -> str:
    """The effective configuration as a newsfold.toml, each value with where it came from."""
    lines = [f"# effective newsfold configuration (file: {resolved.file or 'none'}); "
             "precedence: flags > NEWSFOLD_* env > newsfold.toml > defaults"]
    for s in SECTIONS:
        lines.append(f"\n[{s}]")
        for f in fields(SECTIONS[s]):
            value, source = getattr(getattr(resolved.config, s), f.name), resolved.sources[_key(f)]
            text = f"# {f.name} unset" if value is None else f"{f.name} = {_toml(value)}"
            lines.append(f"{text:<40} # {source}")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
