"""English word frequencies on wordfreq's Zipf scale, from a table cached on disk.

Importing wordfreq and reading its English word list costs about 0.4 s (langcodes, ftfy
and 320,000 words unpacked into a dict), more than the rest of `supportline triage`. The
words triage and the matcher ask about are plain lower-case words, so their Zipf values
are built once from wordfreq into an SQLite table and read one at a time after that.

The table gives exactly what `wordfreq.zipf_frequency(word, "en")` gives:

- for a word of the letters a to z, wordfreq's tokenizer leaves the word as it is, so its
  value depends only on whether the word list has it: the table holds every such word of
  the list with the value wordfreq gives it, and any other such word gets the value
  wordfreq gives a word it does not know;
- words of the list with one inner apostrophe ("can't"), and every number of up to four
  digits ("153": the matcher's phrases have some), are in the table too, each with the
  value wordfreq gives it;
- anything else (digits, other apostrophes, accents) is asked of wordfreq itself.

The table is keyed by the installed wordfreq: a hash of its code and English lists (read
in about 3 ms without importing it) names the file, so installs of the same wordfreq share
one table and another version gets its own; the version is recorded in it too. A table
missing, damaged or not matching is rebuilt, written to a temporary file then renamed, so
a reader never sees half of one. Where no cache directory can be written, wordfreq is
asked directly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

FORMAT = "1"  # bump when the table's layout or contents change
TABLE_PREFIX = "wordfreq-en-"
CACHE_ENV = "SUPPORTLINE_CACHE_DIR"

_LETTERS = re.compile(r"[a-z]+")  # wordfreq's tokenizer keeps these whole
_IN_TABLE = re.compile(r"[a-z]+(?:'[a-z]+)?")  # list words the table stores
NUMBER_DIGITS = 4  # numbers up to this many digits are stored too
_CACHE_SIZE = 100_000


def cache_dir() -> Path:
    """$SUPPORTLINE_CACHE_DIR, else the user's cache directory (XDG) under supportline/."""
    if chosen := os.environ.get(CACHE_ENV):
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "supportline"


def installed_stamp() -> str:
    """A hash of the installed wordfreq's code and English lists, read without importing it."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("wordfreq is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(package.glob("*.py")) + sorted((package / "data").glob("*_en.msgpack.gz"))
    digest = hashlib.sha256(FORMAT.encode())
    for path in files:
        digest.update(f"\0{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def table_path(directory: Path, stamp: str) -> Path:
    """Where the table for the wordfreq with this stamp lives in `directory`."""
    return directory / f"{TABLE_PREFIX}{stamp[:16]}.sqlite3"


class Table:
    """An open word-frequency table: `get` a stored word's Zipf value, or None."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = self._connect()
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        self.stamp = str(meta["stamp"])
        self.version = str(meta["wordfreq_version"])
        self.unknown = float(meta["unknown"])  # wordfreq's value for a word it lacks

    def _connect(self) -> sqlite3.Connection:
        # SQLite connections must not cross a fork (gunicorn preloads, then forks), so
        # each process opens its own; Python's sqlite3 serializes threads on one.
        self._pid = os.getpid()
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def get(self, word: str) -> float | None:
        """The stored Zipf value of `word`, or None when the table does not hold it."""
        if self._pid != os.getpid():
            self._db = self._connect()
        row = self._db.execute("SELECT zipf FROM words WHERE word = ?", (word,)).fetchone()
        return None if row is None else float(row[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _rows() -> Iterator[tuple[str, float]]:
    """Every list word the table stores, with the Zipf value wordfreq gives it."""
    from wordfreq import get_frequency_dict, iter_wordlist, zipf_frequency

    freqs = get_frequency_dict("en")
    by_freq: dict[float, float] = {}
    for word in dict.fromkeys(iter_wordlist("en")):
        if _LETTERS.fullmatch(word):
            # A word of letters is its own single token, so its value is a function of
            # its frequency alone: ask wordfreq once per frequency (about 600 of them).
            freq = freqs[word]
            if freq not in by_freq:
                by_freq[freq] = zipf_frequency(word, "en")
            yield word, by_freq[freq]
        elif _IN_TABLE.fullmatch(word):
            yield word, zipf_frequency(word, "en")
    for n in range(10 ** NUMBER_DIGITS):
        for digits in {str(n), *(f"{n:0{width}d}" for width in range(2, NUMBER_DIGITS + 1))}:
            yield digits, zipf_frequency(digits, "en")


def build(path: Path, stamp: str) -> Table:
    """Write the table for the installed wordfreq (`stamp`) to `path` atomically; open it."""
    # Imported here, as wordfreq: only a build needs them (together 55 ms of a start).
    import tempfile
    from importlib.metadata import version

    from wordfreq import freq_to_zipf, zipf_to_freq

    # What zipf_frequency returns for a word missing from the list (minimum 0).
    unknown = round(freq_to_zipf(zipf_to_freq(0.0)), 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
            db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, zipf REAL) WITHOUT ROWID")
            db.executemany("INSERT INTO words VALUES (?, ?)", _rows())
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("stamp", stamp), ("wordfreq_version", version("wordfreq")),
                 ("unknown", unknown)],
            )
            db.commit()
        finally:
            db.close()
        os.chmod(tmp, 0o644)  # readable by the app's other users, as any cache file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Table(path)


def open_table(directory: Path) -> Table:
    """The table in `directory` for the installed wordfreq, built if missing or stale."""
    stamp = installed_stamp()
    path = table_path(directory, stamp)
    try:
        table = Table(path)
    except (sqlite3.Error, KeyError, ValueError):
        pass  # missing, unreadable or from an older layout
    else:
        if table.stamp == stamp:
            return table
        table.close()
    return build(path, stamp)


@lru_cache(maxsize=1)
def _table() -> Table | None:
    try:
        return open_table(cache_dir())
    except (OSError, sqlite3.Error) as exc:
        logger.warning("word-frequency cache unavailable (%s); asking wordfreq directly", exc)
        return None


def lookup(table: Table | None, word: str) -> float:
    """`word`'s Zipf value in English from `table`, else from wordfreq."""
    if table is not None:
        value = table.get(word)
        if value is not None:
            return value
        if _LETTERS.fullmatch(word):
            return table.unknown
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# Drop-everything cache, as wordfreq keeps its own: texts reuse a small vocabulary.
_seen: dict[str, float] = {}


def zipf(word: str) -> float:
    """What `wordfreq.zipf_frequency(word, "en")` returns, without loading wordfreq."""
    try:
        return _seen[word]
    except KeyError:
        if len(_seen) >= _CACHE_SIZE:
            _seen.clear()
        value = _seen[word] = lookup(_table(), word)
        return value
