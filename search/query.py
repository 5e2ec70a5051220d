"""Query syntax: words, "quoted phrases", AND / OR / NOT, parentheses, field:value.

Implicit terms are ORed and ranked by BM25F; a quoted phrase matches only
passages whose text holds its characters in a row (punctuation ignored).
Fields: region, year (2020 or [2018 TO 2020]), issuer, doc_type, source, section (a role code), title.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser import syntax

from indexer.analysis import phrase_chars, word_terms
from indexer.metadata import canonical_issuer
from indexer.sections import ROLES, role_code
from indexer.text import normalise

from .hits import Note

MAX_QUERY_CHARS = 1000
METADATA_FIELDS = ("region", "year", "issuer", "doc_type", "source", "section")
_FILTER_FIELDS = METADATA_FIELDS + ("title",)
FIELD_ALIASES = {"region": "region", "year": "year", "issuer": "issuer", "doc_type": "doc_type",
                 "type": "doc_type", "source": "source", "section": "section", "title": "title",
                 "地区": "region", "年份": "year", "单位": "issuer", "类型": "doc_type",
                 # the names the page gives the filters
                 "发文单位": "issuer", "文种": "doc_type", "部分": "section", "来源": "source", "标题": "title"}
# `field:value`; with a full-width colon (`发文单位：广西人民政府`, as Chinese is typed) only a known field,
# since `主要工作：一是…` in pasted text is words
_FIELD_SYNTAX = re.compile(r"(?<![\w\"])([A-Za-z_\u4e00-\u9fff]{2,10})([:：])(?=\S)")
_YEAR_SUFFIX = re.compile(r"(\byear:\S*?\d{4}|\byear:\[\s*\d{4}|\d{4}(?=年\s*\]))年")
_OPERATORS = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
_DANGLING = re.compile(r"^\s*(AND|OR|ANDNOT|ANDMAYBE)\b|\b(AND|OR|NOT|ANDNOT|ANDMAYBE)\s*$")  # an operand missing
_SYNTAX = re.compile(r"[\"()\[\]{}:^~*?!+\\-]|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b")  # what the parser reads


class QueryError(ValueError):
    """A query that cannot be understood; the message says what to change."""


@dataclass
class ParsedQuery:
    text: str  # as typed
    keyword: wq.Query  # for the Whoosh index
    free_text: str  # the words and phrases, without syntax
    phrases: list[str] = field(default_factory=list)  # normalised phrase characters
    words: list[str] = field(default_factory=list)  # positive word terms, for highlighting
    strict: bool = False  # phrases, operators or fields: the keyword match is a constraint
    operators: bool = False  # AND / OR / NOT joining its words (search/matching.py `boolean`)
    expansions: list = field(default_factory=list)  # (colloquial term, official terms) the thesaurus added
    notes: list[str] = field(default_factory=list)  # what the user should know: words searched differently, nothing to search
    scored: dict = field(default_factory=dict)  # keyword scores and matches per filters, semantic lists, once computed
    learned: dict = field(default_factory=dict)  # passage id → its feature row, where the learned ranker ordered it
    admitted: dict = field(default_factory=dict)  # (mode, filters) → its matches counted by rule (search/matching.py)
    # whether some passage matches it by its words (search/matching.py), whatever the filters; and the
    # domain check's probability that no report answers it (search/domain.py; 0 for a query so matched)
    worded: bool | None = None
    outside: float | None = None

    @property
    def officials(self) -> list[str]:
        """The official terms the thesaurus added, in order."""
        return [o for _, found in self.expansions for o in found]

    @property
    def matching_officials(self) -> list[str]:
        """The official terms that count towards a match (search/matching.py): those of every term the
        thesaurus found, but a term found only inside a longer one it found (`老头` in `老头乐`)
        lends its terms to the ranking alone: 老头's 养老 made 509 gov passages match
        `老头乐满大街乱窜`."""
        if len(self.expansions) < 2:
            return self.officials
        norm = normalise(self.free_text)
        spans = {term: _spans(norm, term) for term, _ in self.expansions}

        def inside_another(term: str, start: int, end: int) -> bool:
            return any(a <= start and end <= b for other in spans if other != term for a, b in spans[other])

        return [o for term, found in self.expansions
                if not all(inside_another(term, *span) for span in spans[term]) for o in found]

    @property
    def semantic_text(self) -> str:
        """What the semantic side embeds: the free text, then the official terms the thesaurus added,
        in brackets (`小区乱停车（违停、机动车违停）`), so that the vector also means what reports say."""
        officials = self.officials
        return f"{self.free_text}（{'、'.join(officials)}）" if officials else self.free_text


def _spans(text: str, term: str) -> list[tuple[int, int]]:
    """Where `term` occurs in `text`, as (start, end) pairs."""
    out, at = [], text.find(term)
    while at >= 0:
        out.append((at, at + len(term)))
        at = text.find(term, at + 1)
    return out


class Word(wq.WrappingQuery):
    """A word as typed (`text`), searched in every field: its pieces ORed (`child`), as they rank. In a
    query with operators it matches by search/matching.py's rule for words (held whole, by parts
    covering it, in a row), not by any one piece: `营商环境 AND 乡村振兴` is not passages holding 环境
    and 乡村."""

    boost = 1.0  # its own; the child's carries the field boosts

    def __init__(self, child: wq.Query, text: str = ""):
        super().__init__(child)
        self.text = text

    def _rewrap(self, child: wq.Query) -> Word:
        return Word(child, self.text)

    def normalize(self) -> wq.Query:
        child = self.child.normalize()
        return child if child is wq.NullQuery else Word(child, self.text)

    def __eq__(self, other) -> bool:
        return type(other) is Word and other.text == self.text and other.child == self.child

    def __hash__(self) -> int:
        return hash(("Word", self.text)) ^ hash(self.child)

    def __str__(self) -> str:
        return str(self.child)


class _WordGroup(syntax.GroupNode):
    """The fields a word typed without one is searched in (qparser.MultifieldPlugin), as one Word. Not
    an OrGroup: the parser's OR would add the next word to it."""

    qclass = wq.Or

    def query(self, parser):
        q = super().query(parser)
        if self.nodes and all(type(n) is syntax.WordNode for n in self.nodes):
            return Word(q, self.nodes[0].text)
        return q


class ExactPhrase(wq.Phrase):
    """A quoted phrase: characters in a row in the bigram field."""


class ExactTerm(wq.Term):
    """A quoted two-character phrase: one bigram."""


class _ExactPhrasePlugin(qparser.PhrasePlugin):
    """Quoted phrases search the character-bigram field instead of the word field."""

    class PhraseNode(qparser.PhrasePlugin.PhraseNode):
        def query(self, parser):
            if self.fieldname in METADATA_FIELDS:
                return super().query(parser)
            if self.fieldname not in (None, "content"):
                return wq.NullQuery  # the one exact field serves every text field
            chars = phrase_chars(self.text)
            if len(chars) == 0:
                return wq.NullQuery
            if len(chars) == 1:
                return wq.Or([ExactTerm("content", chars), wq.Prefix("exact", chars)])
            bigrams = [chars[i:i + 2] for i in range(len(chars) - 1)]
            if len(bigrams) == 1:
                return ExactTerm("exact", bigrams[0], boost=self.boost)
            return ExactPhrase("exact", bigrams, slop=1, boost=self.boost)

    def taggers(self, parser):
        return [(self.PhraseTagger(self.expr, self.PhraseNode), 0)]

    class PhraseTagger(qparser.RegexTagger):
        def __init__(self, expr, node_class):
            super().__init__(expr)
            self.node_class = node_class

        def create(self, parser, match):
            text = match.group("text")
            textstartchar = match.start("text")
            slop = match.group("slop")
            slop = int(slop) if slop else 1
            return self.node_class(text, textstartchar, slop)


def make_parser(schema, field_boosts: dict[str, float]) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(field_boosts), schema, fieldboosts=field_boosts,
                                      group=qparser.OrGroup.factory(0.0))
    next(p for p in parser.plugins if isinstance(p, qparser.MultifieldPlugin)).group = _WordGroup
    parser.remove_plugin_class(qparser.PhrasePlugin)
    parser.add_plugin(_ExactPhrasePlugin())
    for plugin in (qparser.WildcardPlugin, qparser.BoostPlugin, qparser.PlusMinusPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def parse(text: str, parser: qparser.QueryParser) -> ParsedQuery:
    """Parse a user query. Raises QueryError for an empty or too long one; what it could not use as
    typed goes into `notes`."""
    if not isinstance(text, str):
        raise QueryError("empty query")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long: {len(text)} characters, at most {MAX_QUERY_CHARS}")
    clean = re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("“", '"').replace("”", '"').replace("＂", '"')
    if clean.count('"') % 2:
        clean = clean[::-1].replace('"', "", 1)[::-1]  # an unbalanced quote: drop the last one
    notes: list[str] = []
    for m in list(_DANGLING.finditer(clean)):  # `营商环境 AND`: the parser would search the word "AND"
        op = m.group(1) or m.group(2)
        notes.append(Note(f"'{op}' has nothing on one side: left out", f"“{op}”一侧没有词语，已忽略"))
    clean = _DANGLING.sub(" ", clean)

    def field(m: re.Match) -> str:
        key = _field(m.group(1))
        if key is None and m.group(2) == "：":
            return m.group(0)
        if key is None:  # `目标:全面小康` is text with a colon, not a field
            notes.append(Note(f"'{m.group(1)}:' is not a field (known: {', '.join(_FILTER_FIELDS)}): searched as words",
                              f"“{m.group(1)}:”不是字段（可用 region 地区、year 年份、issuer 发文单位、doc_type 文种、"
                              f"source 来源、section 部分、title 标题），已按普通词语检索"))
            return m.group(1) + " "
        return key + ":"

    clean = _FIELD_SYNTAX.sub(field, clean)
    clean = _YEAR_SUFFIX.sub(r"\1", clean)  # year:2020年, year:[2018年 TO 2020年]

    def section(m: re.Match) -> str:
        value = m.group(1)
        code = role_code(value)
        if code is None:
            notes.append(Note(f"unknown section '{value}' (known: {', '.join(f'{c} {n}' for c, n in ROLES.items())}): "
                              f"searched without it", f"没有“{value}”这一部分（可用：{'、'.join(ROLES.values())}），"
                                                     f"已不按部分检索"))
            return " "
        return f"section:{code}"

    clean = re.sub(r"\bsection:([^\s\"()]+)", section, clean)
    # issuer:广西人民政府 means the body the index names 广西壮族自治区人民政府 (indexer/metadata.py)
    clean = re.sub(r"\bissuer:([^\s\"()]+)", lambda m: f"issuer:{canonical_issuer(normalise(m.group(1)))}", clean)
    try:
        keyword = _require_constraints(plain_query(clean, parser) if is_plain(clean) else parser.parse(clean))
    except Exception:  # Whoosh raises assorted errors on odd syntax: search the words alone
        notes.append(Note("the query's syntax was not understood: searched as plain words",
                          "查询语法无法识别，已按普通词语检索"))
        clean = _SYNTAX.sub(" ", clean)
        try:
            keyword = _require_constraints(parser.parse(clean))
        except Exception:
            keyword = wq.NullQuery
    phrases = [phrase_chars(p) for p in re.findall(r'"([^"]*)"', clean)]
    free = _free_text(clean)
    operators = bool(_OPERATORS.search(_free_syntax(clean)))
    strict = bool(phrases) or operators or keyword_has_fields(keyword)
    words = [] if not free else sorted({t.text for t in word_terms(free)}, key=len, reverse=True)
    if isinstance(keyword, type(wq.NullQuery)) and not free:
        notes.append(Note("the query has no searchable words", "查询中没有可检索的词语"))
    return ParsedQuery(text, keyword, free, [p for p in phrases if p], words, strict, operators, notes=notes)




def is_plain(text: str) -> bool:
    """Whether a query is words alone: nothing Whoosh's parser would read as syntax (nor a single quote,
    which it reads as one term)."""
    return not _SYNTAX.search(text) and "'" not in text


def plain_query(text: str, parser: qparser.QueryParser) -> wq.Query:
    """What the parser makes of a plain query (each word's terms in every field, ORed, with the field's
    boost), built directly: the parser's generic machinery took 5 ms a query. tests/test_keyword_search.py
    checks that the two are equal."""
    fields = next(p for p in parser.plugins if isinstance(p, qparser.MultifieldPlugin))
    terms = [wq.Term(name, token.text, boost=fields.boosts.get(name, 1.0))
             for word in text.split()
             for name in fields.fieldnames
             for token in parser.schema[name].analyzer(word, mode="query")]
    return wq.Or(terms).normalize() if terms else wq.NullQuery


def _require_constraints(q: wq.Query) -> wq.Query:
    """In the implicit OR of a plain query, phrases and field:value terms are
    required and NOT terms exclude; the other words only rank."""
    if not isinstance(q, wq.Or):
        return wq.NullQuery if isinstance(q, wq.Not) else q
    required, optional, excluded = [], [], []
    for sub in q.subqueries:
        if isinstance(sub, wq.Not):
            excluded.append(sub.query)
        elif _is_constraint(sub):
            required.append(sub)
        else:
            optional.append(sub)
    if not required and not optional:
        return wq.NullQuery
    if required:
        base = wq.And(required)
        if optional:
            base = wq.AndMaybe(base, wq.Or(optional))
    else:
        base = wq.Or(optional)
    return wq.AndNot(base, wq.Or(excluded)) if excluded else base


def _is_constraint(q: wq.Query) -> bool:
    if isinstance(q, (ExactPhrase, ExactTerm)) or getattr(q, "fieldname", None) in _FILTER_FIELDS:
        return True
    if isinstance(q, (wq.Or, wq.And)):
        return bool(q.subqueries) and all(_is_constraint(s) for s in q.subqueries)
    return isinstance(q, wq.NumericRange)


def _field(name: str) -> str | None:
    return FIELD_ALIASES.get(name) or FIELD_ALIASES.get(name.lower())


def keyword_has_fields(q: wq.Query) -> bool:
    """Whether the query restricts a metadata field (region:…, year:…)."""
    leaves = q.leaves() if q.is_leaf() is False else [q]
    return any(getattr(leaf, "fieldname", None) in _FILTER_FIELDS for leaf in leaves)


def _free_syntax(clean: str) -> str:
    """The query without its quoted phrases (`"R AND D"` holds no operator)."""
    return re.sub(r'"[^"]*"', " ", clean)


def _free_text(clean: str) -> str:
    """The query without syntax: no operators, no field:value, no quotes or brackets."""
    text = re.sub(rf"\b(?:{'|'.join(_FILTER_FIELDS)}):(\"[^\"]*\"|\[[^\]]*\]|\S+)", " ", clean)
    text = re.sub(r"\bNOT\s+(\"[^\"]*\"|\S+)", " ", text)
    text = _OPERATORS.sub(" ", text)
    text = re.sub(r"[\"()\[\]]", " ", text)
    return re.sub(r"\s+", " ", text).strip()
