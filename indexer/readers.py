"""Find report files and read their text, whatever the format and encoding.

A reader returns `Source`s (one per report-bearing unit: a file, or a JSONL
line) or raises `Unreadable` with a reason a person can act on.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .text import CJK, normalise

TEXT_SUFFIXES = {".txt", ".md"}
# Word 97–2003, Kingsoft WPS, RTF and OpenDocument files, read through LibreOffice where it is installed
OFFICE_SUFFIXES = {".doc", ".wps", ".rtf", ".odt"}
SUPPORTED = TEXT_SUFFIXES | OFFICE_SUFFIXES | {".docx", ".pdf", ".html", ".htm", ".jsonl"}
OFFICE_TIMEOUT = 120  # seconds LibreOffice may take over one file
# A .docx is a zip; refuse one that would inflate past this (a zip bomb).
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
JSONL_FIELDS = ("id", "title", "year", "region", "issuer", "doc_type", "url")
# A file of one or a few reports is never this large; a bigger one is refused
# unread (JSONL files, one report a line, are streamed and have no size limit).
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_JSONL_LINE_BYTES = 16 * 1024 * 1024


class Unreadable(Exception):
    """A file that cannot be read; the message says why."""


@dataclass
class Source:
    """The raw text of one unit to index, with what the file itself says about it."""

    key: str  # stable identity: relative path, plus `#id` for a JSONL line
    path: str  # the file, as the user named it
    text: str
    fields: dict = field(default_factory=dict)  # metadata given by the file (JSONL)
    warnings: list[str] = field(default_factory=list)
    structured: bool = False  # text with its own paragraphs (JSONL, docx): no scrape clean-up of titles
    one_report: bool = False  # a JSONL record: one report, never split (a file may hold several)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def discover(paths: list[str]) -> Iterator[tuple[Path, str]]:
    """(file, stable key) for every file under the given folders and files, sorted.

    The key is the path relative to the folder named, prefixed with that
    folder's name, so it does not depend on the working directory.
    """
    for given in paths:
        root = Path(given)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                yield path, f"{root.resolve().name}/{rel.as_posix()}"
        else:
            yield root, root.name


def key_hash(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def read(path: Path, key: str) -> Iterator[Source]:
    """Read one file into sources, one at a time. Raises Unreadable, before the
    first source or, for a JSONL file with no good line, at its end. A source
    with no text carries only warnings (a bad JSONL line)."""
    if not path.exists():
        raise Unreadable("no such file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise Unreadable(f"unsupported file type '{suffix or path.name}' (supported: {', '.join(sorted(SUPPORTED))})")
    size = path.stat().st_size
    if size == 0:
        raise Unreadable("empty file")
    if suffix == ".jsonl":
        return read_jsonl(path, key)
    if size > MAX_FILE_BYTES:
        raise Unreadable(f"too large for a report file: {size / 2**20:.1f} MB, at most {MAX_FILE_BYTES // 2**20} MB "
                         "(split it, or give one report a line in a .jsonl file)")
    if suffix in TEXT_SUFFIXES:
        text, warnings = decode(path.read_bytes())
        source = Source(key, str(path), text, warnings=warnings)
    elif suffix == ".docx":
        source = Source(key, str(path), read_docx(path), structured=True)
    elif suffix == ".pdf":
        text, warnings = read_pdf(path)
        source = Source(key, str(path), text, warnings=warnings)
    elif suffix in OFFICE_SUFFIXES:
        source = Source(key, str(path), read_office(path), structured=True)
    else:
        source = Source(key, str(path), read_html(path.read_bytes()))
    if not source.text.strip():
        raise Unreadable("no text in file")
    return iter([source])


def decode(data: bytes) -> tuple[str, list[str]]:
    """Bytes to text: UTF-8 (with or without BOM), else the detected encoding
    (GB18030/GBK, Big5, UTF-16 …). A mostly-UTF-8 file with a few bad bytes
    keeps its text, the bad bytes marked and counted."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    chinese = _chinese_decoding(data)
    if chinese is not None:
        return chinese, []
    mixed = _mixed_decoding(data)
    if mixed is not None:
        return mixed
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=None).best()
    if best is not None and best.encoding not in ("utf_8", "ascii"):
        encoding = "gb18030" if best.encoding in ("gb2312", "gbk", "gb18030") else best.encoding
        try:
            return data.decode(encoding), []
        except (UnicodeDecodeError, LookupError):
            pass
    # a few bad bytes in a UTF-8 or a Chinese-encoded file: its text kept, the bad bytes marked and counted
    readings = [data.decode("utf-8", errors="replace"), _chinese_decoding(data, errors="replace")]
    text = min((t for t in readings if t is not None), key=lambda t: t.count("\ufffd"))
    bad = text.count("\ufffd")
    if bad <= max(16, len(text) // 100):
        return text, [f"{bad} undecodable bytes replaced with \ufffd"]
    raise Unreadable("cannot decode text: not UTF-8, GB18030 or Big5")


# Chinese encodings first, whatever the length: detectors guess from byte statistics and read a
# one-line Big5 file as Japanese half-width kana. Each candidate decoding is judged by the share
# of its Han characters that are common ones (read wrongly, the bytes give rare characters).
CHINESE_ENCODINGS = ("gb18030", "big5hkscs")
COMMON_SHARE = 0.8


def _chinese_decoding(data: bytes, errors: str = "strict") -> str | None:
    """The text where one Chinese encoding reads `data` (strictly, or with `errors="replace"` marking the
    bytes it cannot read) and reads it as common Chinese."""
    best = _chinese_encoding(data, errors)
    if best is None:
        return None
    if errors == "replace":
        return _decode_resyncing(data, best)
    try:
        return data.decode(best)
    except UnicodeDecodeError:
        return None


def _chinese_encoding(data: bytes, errors: str = "strict") -> str | None:
    """The Chinese encoding that reads the start of `data` as common Chinese, if one does."""
    best, best_share = None, 0.0
    sample = data[:20_000]
    for encoding in CHINESE_ENCODINGS:
        try:
            text = sample.decode(encoding, errors)
        except UnicodeDecodeError:
            try:  # the sample may end inside a character
                text = sample[:-1].decode(encoding, errors)
            except UnicodeDecodeError:
                continue
        han = CJK.findall(normalise(text))
        share = sum(ch in _common_han() for ch in han) / len(han) if len(han) >= 2 else 0.0
        if share > best_share:
            best, best_share = encoding, share
    return best if best is not None and best_share >= COMMON_SHARE else None


def _mixed_decoding(data: bytes) -> tuple[str, list[str]] | None:
    """A file put together from UTF-8 and GB18030 (or Big5) parts: each line in the encoding that reads
    it (read whole as GB18030, the UTF-8 part came out as 鏌愬尯鍩庣… with a warning of a few bad
    bytes). None unless some lines are UTF-8 Chinese and the others read as common Chinese in one
    Chinese encoding."""
    lines = data.split(b"\n")
    utf8: dict[int, str] = {}
    for i, line in enumerate(lines):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        utf8[i] = text
    other = [line for i, line in enumerate(lines) if i not in utf8]
    if not other or not any(CJK.search(t) for t in utf8.values()):
        return None
    encoding = _chinese_encoding(b"\n".join(other), errors="replace")
    if encoding is None:
        return None
    text = "\n".join(utf8[i] if i in utf8 else _decode_resyncing(line, encoding) for i, line in enumerate(lines))
    name = "GB18030" if encoding == "gb18030" else "Big5"
    read_as_utf8 = sum(1 for t in utf8.values() if t.strip())
    warnings = [f"mixed encodings: {read_as_utf8} lines read as UTF-8, {len(other)} as {name}"]
    if "\ufffd" in text:
        warnings.append(f"{text.count(chr(0xFFFD))} undecodable bytes replaced with \ufffd")
    return text, warnings


def _decode_resyncing(data: bytes, encoding: str, limit: int = 10_000) -> str:
    """`data` in a two-byte encoding with a few bad bytes, each marked \ufffd. After a bad byte the
    decoder may pair the next byte with the one after it and read every character that follows a
    byte off (`全年清运垃圾` read as `全\ue48b昵逶死`); so each bad byte also drops the 0–2 bytes after
    it that make the text after it read as common Chinese (each byte dropped marked too)."""
    common = _common_han()

    def reads_well(start: int) -> float:
        text = data[start:start + 40].decode(encoding, "replace")
        han = CJK.findall(text)
        return sum(ch in common for ch in han) - 2 * text.count("\ufffd") - 2 * len(re.findall("[\ue000-\uf8ff]", text))

    out, pos = [], 0
    while pos < len(data):
        if len(out) >= 2 * limit:  # too many to mend one by one: the rest read plainly
            out.append(data[pos:].decode(encoding, "replace"))
            break
        try:
            out.append(data[pos:].decode(encoding))
            break
        except UnicodeDecodeError as exc:
            out.append(data[pos:pos + exc.start].decode(encoding))
            after = pos + exc.end
            skip = max(range(3), key=lambda n: (reads_well(after + n), -n))
            out.append("\ufffd" * (exc.end - exc.start + skip))  # one mark per byte not read
            pos = after + skip
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """Han characters of the words jieba's dictionary counts as frequent (simplified script)."""
    import jieba

    chars: set[str] = set()
    with jieba.get_dict_file() as handle:
        for line in handle:
            parts = line.decode("utf-8").split(" ")
            if len(parts) >= 2 and int(parts[1]) >= 300:
                chars.update(parts[0])
    return frozenset(chars)


def read_docx(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > MAX_DOCX_UNCOMPRESSED or total / packed > MAX_COMPRESSION_RATIO:
                raise Unreadable(f"refused: unpacks to {total} bytes (ratio {total // packed}:1), a zip bomb?")
            if "word/document.xml" not in archive.namelist():
                raise Unreadable("not a Word document (no word/document.xml; encrypted or corrupt?)")
    except zipfile.BadZipFile:
        raise Unreadable("corrupt or encrypted .docx (not a zip archive)") from None
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on bad XML
        raise Unreadable(f"corrupt .docx: {exc}") from None
    return "\n".join(_docx_lines(document))


def _docx_lines(container) -> list[str]:
    """The lines of a document (or a table cell): paragraphs and tables in their order. A data table
    (short cells of text) is one paragraph (`_table_lines`); a table laying out the text (a cell
    holding paragraphs, or a whole report in one cell) is read cell by cell as the text it holds."""
    import docx

    lines: list[str] = []
    for block in container.iter_inner_content():
        if not isinstance(block, docx.table.Table):
            lines.append(block.text)
        elif _docx_data_table(block):
            lines.extend(_table_lines(block))
        else:
            for cell in _distinct_cells(block):
                lines.extend(_docx_lines(cell))
    return lines


def _distinct(cells) -> list:
    """Word cells, a merged one once (python-docx gives it once per grid column it spans)."""
    out: list = []
    for cell in cells:
        if not any(cell._tc is seen._tc for seen in out):
            out.append(cell)
    return out


def _distinct_cells(table) -> list:
    """A Word table's cells row by row, a merged cell once."""
    return _distinct(cell for row in table.rows for cell in row.cells)


def _docx_data_table(table) -> bool:
    return all(len(cell.paragraphs) <= 1 and not cell.tables and len(cell.text.strip()) <= MAX_CELL_CHARS
               for cell in _distinct_cells(table))


def _table_lines(table) -> list[str]:
    """A Word data table as one paragraph where it stands (a statistics table under 一、主要工作 belongs
    to that heading, not to the last one): its rows separated by `；`, their cells by `，`, ended by `。`,
    so that neither a short row is taken for a heading nor two rows for a line broken mid-sentence; a
    merged cell once, not once per column it spans."""
    paragraph = _table_paragraph([[cell.text.strip() for cell in _distinct(row.cells)] for row in table.rows])
    return [paragraph] if paragraph else []


def _table_paragraph(rows: list[list[str]]) -> str:
    """A data table's rows of cell texts as one paragraph, Word's or HTML's: rows split by `；`, cells by
    `，`, ended by `。`; empty cells and rows left out."""
    joined = [text.rstrip("，；。") for text in ("，".join(cell for cell in cells if cell) for cells in rows) if text]
    return "；".join(joined) + "。" if joined else ""


def read_office(path: Path) -> str:
    """A .doc, .wps, .rtf or .odt file's text, converted by LibreOffice (`soffice --convert-to txt`), one
    paragraph a line: converted ahead with others (`office_conversions`), else on its own. Unreadable
    where LibreOffice is not installed, fails or takes too long."""
    ahead = _CONVERTED.pop(path.resolve(), None)
    if ahead is not None:
        return decode(ahead.read_bytes())[0]
    soffice = _soffice()
    if soffice is None:
        raise Unreadable(f"reading {path.suffix.lower()} files needs LibreOffice, which is not installed "
                         f"(Debian: apt install libreoffice-writer-nogui), or save the file as .docx")
    with tempfile.TemporaryDirectory(prefix="report-search-office-") as out:
        try:
            done = _convert(soffice, [path.resolve()], Path(out), OFFICE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Unreadable(f"LibreOffice took more than {OFFICE_TIMEOUT} s over it") from None
        converted = Path(out) / (path.stem + ".txt")
        if done.returncode != 0 or not converted.exists():
            why = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            raise Unreadable(f"corrupt {path.suffix.lower()} file: LibreOffice could not read it"
                             + (f" ({why[-1][:200]})" if why else ""))
        text, _ = decode(converted.read_bytes())
    return text


_CONVERTED: dict[Path, Path] = {}  # an office file -> its text, converted ahead (office_conversions)
OFFICE_BATCH = 50  # files a LibreOffice run converts ahead: one start (about 1 s) for them all


@contextlib.contextmanager
def office_conversions(paths: list[Path]) -> Iterator[None]:
    """Within it, the office files among `paths` are read from text LibreOffice converted ahead, up to
    OFFICE_BATCH files a run (30 .doc files: 2.5 s, against 33 s one at a time). A file a run could
    not convert is converted again on its own when read, which says why it fails."""
    office = [p.resolve() for p in paths if p.suffix.lower() in OFFICE_SUFFIXES]
    soffice = _soffice() if len(office) > 1 else None
    with tempfile.TemporaryDirectory(prefix="report-search-office-") as folder:
        pending, runs = office if soffice else [], 0
        while pending:
            batch, stems, rest = [], set(), []
            for p in pending:  # LibreOffice names its output by the stem: one file a stem a run
                if p.stem in stems or len(batch) >= OFFICE_BATCH:
                    rest.append(p)
                else:
                    batch.append(p)
                    stems.add(p.stem)
            out = Path(folder) / str(runs)
            try:
                _convert(soffice, batch, out, OFFICE_TIMEOUT + 5 * len(batch))
            except subprocess.TimeoutExpired:
                pass
            for p in batch:
                if (out / (p.stem + ".txt")).exists():
                    _CONVERTED[p] = out / (p.stem + ".txt")
            pending, runs = rest, runs + 1
        try:
            yield
        finally:
            for p in office:
                _CONVERTED.pop(p, None)


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def office_reader() -> str:
    """Which LibreOffice reads office files here (its program and when it was installed), or `none`."""
    soffice = _soffice()
    if soffice is None:
        return "office reader: none"
    program = Path(soffice).resolve()
    try:
        return f"office reader: {program} {program.stat().st_mtime_ns}"
    except OSError:
        return f"office reader: {program}"


def _convert(soffice: str, paths: list[Path], out: Path, timeout: float) -> subprocess.CompletedProcess:
    """LibreOffice converting `paths` to UTF-8 text in `out`, with a profile folder of this process's own
    (another LibreOffice running is left alone), one run at a time."""
    with _OFFICE_LOCK:
        return subprocess.run([soffice, f"-env:UserInstallation={_office_profile().as_uri()}", "--headless",
                               "--norestore", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(out),
                               *map(str, paths)], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


_OFFICE_LOCK = threading.Lock()  # one conversion at a time in a process: they share its profile folder


@functools.lru_cache(maxsize=1)
def _office_profile() -> Path:
    """LibreOffice's profile folder for this process, removed when it ends."""
    folder = Path(tempfile.mkdtemp(prefix="report-search-soffice-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def read_pdf(path: Path) -> tuple[str, list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs or cannot read (`EOF marker not found`) on stderr, between the build's
    # own lines; a file it cannot read is skipped with the reason, in the build's report
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise Unreadable("encrypted PDF (password required)")
            except Exception:
                raise Unreadable("encrypted PDF (password required)") from None
        text, edges = pdf_text([(page.extract_text() or "").split("\n") for page in reader.pages])
    except Unreadable:
        raise
    except (PdfReadError, Exception) as exc:
        raise Unreadable(f"corrupt PDF: {exc}") from None
    if not text.strip():
        raise Unreadable("PDF has no text layer (scanned image?)")
    return text, ([f"cleaned: {edges} running heads and page numbers of printed pages"] if edges else [])


_DIGITS = re.compile(r"\d+")
# A space a PDF's text layer puts where the font changes between Latin and Chinese (`2023 年`, `1200 余处`).
_FONT_GAP = re.compile(r"(?<=[0-9A-Za-z%.]) (?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff]) (?=[0-9A-Za-z])")


def pdf_text(pages: list[list[str]]) -> tuple[str, int]:
    """A PDF's text from its pages' lines. A page's running head and foot (its first or last line, the
    same on two pages or more but for digits: the title, `— 2 —`) go, so that a paragraph the layout
    wrapped across pages is one run of lines again (cleaning rejoins lines that fill the text's width);
    the spaces the text layer puts between Latin and Chinese runs go. Returns the text and how many
    running heads and feet went."""
    pages = [[line.strip() for line in page if line.strip()] for page in pages]
    edges = 0
    if len(pages) >= 2:
        for edge in (0, -1):
            seen: dict[str, int] = {}
            for page in pages:
                if page:
                    key = _DIGITS.sub("#", page[edge])
                    seen[key] = seen.get(key, 0) + 1
            for page in pages:
                if page and seen[_DIGITS.sub("#", page[edge])] >= 2:
                    page.pop(edge)
                    edges += 1
    return "\n".join(_FONT_GAP.sub("", line) for page in pages for line in page), edges


def read_html(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe"]):
        tag.decompose()
    body = soup.find("article") or soup.find("main") or soup.body or soup
    return "".join(_html_parts(body))


# Elements that start a line of their own; any other (span, a, strong, font …) runs on within its line.
_HTML_BLOCKS = {"address", "article", "blockquote", "center", "dd", "div", "dl", "dt", "figcaption", "figure",
                "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "title", "ul"}


def _html_parts(element) -> Iterator[str]:
    """An element's text, a line break where a block starts or ends or at <br>, none around inline
    elements (`开展<a>市容环境专项整治</a>，` is one line, not three); a table as one paragraph
    (`_html_table`). The text nodes keep their own line breaks, which cleaning rejoins as in a .txt.
    Walked with a stack, not recursion: a page nested thousands of tags deep is read too."""
    from bs4 import Comment, NavigableString

    stack = [(iter(element.children), "")]  # each open element's children, and what closes it
    while stack:
        child = next(stack[-1][0], None)
        if child is None:
            yield stack.pop()[1]
        elif isinstance(child, NavigableString):
            if not isinstance(child, Comment):
                yield str(child)
        elif child.name == "br":
            yield "\n"
        elif child.name == "table" and _data_table(child):
            yield "\n" + _html_table(child) + "\n"
        elif child.name in _HTML_BLOCKS or child.name in _LAYOUT_TABLE:
            yield "\n"
            stack.append((iter(child.children), "\n"))
        else:
            stack.append((iter(child.children), ""))


# A table that lays out a page (older government sites put the whole article in one): its rows and
# cells are blocks, read as the rest of the page.
_LAYOUT_TABLE = {"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"}
_CELL_BLOCKS = ["p", "div", "br", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"]
MAX_CELL_CHARS = 80


def _data_table(table) -> bool:
    """Whether a table holds data (short cells of text: read as one paragraph) rather than a page's
    layout (cells holding paragraphs: read as the page)."""
    cells = table.find_all(["td", "th"])
    return bool(cells) and all(not cell.find(_CELL_BLOCKS) and len(cell.get_text().strip()) <= MAX_CELL_CHARS
                               for cell in cells)


def _html_table(table) -> str:
    """An HTML data table as a .docx one is read (`_table_paragraph`)."""
    # a row of a table inside a cell is read with that cell
    return _table_paragraph([[re.sub(r"\s+", " ", "".join(_html_parts(cell))).strip()
                              for cell in row.find_all(["td", "th"]) if cell.find_parent("tr") is row]
                             for row in table.find_all("tr") if row.find_parent("table") is table])


def read_jsonl(path: Path, key: str) -> Iterator[Source]:
    """One report per line, read a line at a time. A bad line is reported (as a
    source with only a warning); a file with no good line at all is Unreadable."""
    good = 0
    problems: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(_lines(handle), 1):
            if raw is None:
                problem = f"line {number} skipped: longer than {MAX_JSONL_LINE_BYTES // 2**20} MB"
            elif not raw.strip():
                continue
            else:
                try:
                    record = json.loads(raw.decode("utf-8-sig"))
                    text = record["text"]
                    if not isinstance(text, str) or not text.strip():
                        raise ValueError("empty 'text'")
                except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                    reason = "no 'text' field" if isinstance(exc, (KeyError, TypeError)) else str(exc)[:80]
                    problem = f"line {number} skipped: {reason}"
                else:
                    fields = {name: record[name] for name in JSONL_FIELDS if record.get(name) not in (None, "")}
                    ident = str(record.get("id", f"line{number}"))
                    good += 1
                    yield Source(f"{key}#{ident}", str(path), text, fields, structured=True, one_report=True)
                    continue
            problems.append(problem)
            yield Source(f"{key}#line{number}", str(path), "", warnings=[problem])
    if not good:
        raise Unreadable("; ".join(problems[:5]) or "no reports in file")


def _lines(handle, limit: int = MAX_JSONL_LINE_BYTES) -> Iterator[bytes | None]:
    """The lines of a binary file; None for a line longer than `limit` (skipped unread)."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = handle.readline(1 << 20)
            yield None
        else:
            yield line
