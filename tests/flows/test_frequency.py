"""The cached word-frequency table answers exactly as wordfreq does, and stays current.

Triage's spelling correction and the matcher's word weights read Zipf values from the
table; any value that differed from wordfreq's could change a triage level or a topic.
"""

from __future__ import annotations

import csv
import random
import re
import sqlite3
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from wordfreq import iter_wordlist, zipf_frequency

from flows import frequency
from flows.frequency import Table, build, installed_stamp, lookup, open_table, table_path

ROOT = Path(__file__).resolve().parents[2]
_TOKEN = re.compile(r"[^\s]+")


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    """A table built from scratch for this module."""
    opened = open_table(tmp_path_factory.mktemp("cache"))
    yield opened
    opened.close()


def _typos(word: str, rng: random.Random) -> list[str]:
    """A letter dropped, doubled, swapped with its neighbour and replaced."""
    if len(word) < 2:
        return [word + rng.choice(string.ascii_lowercase)]
    i = rng.randrange(len(word) - 1)
    return [
        word[:i] + word[i + 1 :],
        word[:i] + word[i] + word[i:],
        word[:i] + word[i + 1] + word[i] + word[i + 2 :],
        word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :],
    ]


def sample() -> list[str]:
    """Words to compare: list words, typos of them, texts patients sent, odd shapes."""
    rng = random.Random(16)
    words = list(iter_wordlist("en"))
    listed = rng.sample(words, 30_000)
    # Words of the list with an apostrophe, and made-up ones wordfreq splits ("y'all").
    apostrophes = [w for w in words if "'" in w]
    made_up = [
        "y'all", "l'eat", "cough'd", "o'clock", "we're", "she'd've", "'twas", "rock'n'roll",
        "ca'nt", "do'nt", "i'am", "hospital's", "nurses'", "x'ray",
    ]
    typos = [t for w in rng.sample(words, 10_000) for t in _typos(w, rng)]
    # Every token of every text and phrase the evaluation sets and content hold.
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            texts.extend(" ".join(row.values()) for row in csv.DictReader(f))
    for path in sorted((ROOT / "flows" / "content").rglob("*.yaml")):
        texts.append(path.read_text(encoding="utf-8"))
    tokens = {t for text in texts for t in _TOKEN.findall(text)}
    tokens |= {t.lower().strip(".,!?;:()\"") for t in tokens}
    shapes = [
        "", "0", "7", "38.5", "2,000", "12345", "007", "5fu", "her2", "café", "Word",
        "NHS", "naïve", "über", "ß", "a-b", "\u2019s", "it\u2019s", "ct", "x", "🙂",
    ]
    return listed + apostrophes + made_up + typos + sorted(tokens) + shapes


SAMPLE = sample()


def test_every_sampled_word_has_wordfreqs_value(table: Table) -> None:
    """Over 100,000 words, typos and odd tokens: the table's answer is wordfreq's, exactly."""
    assert len(SAMPLE) > 100_000
    wrong = [
        (w, lookup(table, w), zipf_frequency(w, "en"))
        for w in SAMPLE
        if lookup(table, w) != zipf_frequency(w, "en")
    ]
    assert wrong == []


def test_the_table_answers_most_words_itself(table: Table) -> None:
    """Plain words, known or misspelt, and short numbers are read from the table."""
    assert table.get("chemotherapy") == zipf_frequency("chemotherapy", "en") > 0
    assert table.get("can't") == zipf_frequency("can't", "en") > 0
    assert table.get("153") == zipf_frequency("153", "en") > 0
    assert table.get("cghing") is None  # not in the list: wordfreq's value for unknown words
    assert lookup(table, "cghing") == table.unknown == zipf_frequency("cghing", "en")
    assert table.version  # the wordfreq version it was built from is recorded


def test_zipf_reads_the_cache_directory_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: Table
) -> None:
    """`zipf` builds its table in $SUPPORTLINE_CACHE_DIR and gives wordfreq's values."""
    monkeypatch.setenv(frequency.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(frequency, "_seen", {})
    frequency._table.cache_clear()
    try:
        words = SAMPLE[::50]
        assert [frequency.zipf(w) for w in words] == [zipf_frequency(w, "en") for w in words]
        # One table, named for the installed wordfreq, and no temporary file left over.
        assert list(tmp_path.iterdir()) == [table_path(tmp_path, installed_stamp())]
    finally:
        frequency._table.cache_clear()


def test_a_stale_table_is_rebuilt(tmp_path: Path) -> None:
    """A table whose recorded stamp is not the installed wordfreq's is replaced, values too."""
    stamp = installed_stamp()
    path = table_path(tmp_path, stamp)
    build(path, stamp).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'wordfreq 0.0' WHERE key = 'stamp'")
        db.execute("UPDATE words SET zipf = 9.99 WHERE word = 'scan'")
    db.close()
    table = open_table(tmp_path)
    try:
        assert table.stamp == stamp
        assert table.get("scan") == zipf_frequency("scan", "en") != 9.99
    finally:
        table.close()


def test_another_wordfreq_gets_its_own_table(tmp_path: Path) -> None:
    """A table built for a different wordfreq is left alone, and never read for this one."""
    other = table_path(tmp_path, "0" * 64)
    build(other, "0" * 64).close()
    with sqlite3.connect(other) as db:
        db.execute("UPDATE words SET zipf = 9.99 WHERE word = 'scan'")
    db.close()
    table = open_table(tmp_path)
    try:
        assert table.path != other and other.exists()
        assert table.get("scan") == zipf_frequency("scan", "en")
    finally:
        table.close()


def test_a_damaged_table_is_rebuilt(tmp_path: Path) -> None:
    """A file that is not a table (a crash, a full disk) is replaced by a good one."""
    table_path(tmp_path, installed_stamp()).write_bytes(b"not a database at all" * 100)
    table = open_table(tmp_path)
    try:
        assert table.get("scan") == zipf_frequency("scan", "en")
    finally:
        table.close()


def test_without_a_writable_cache_wordfreq_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache directory that cannot be made still gives wordfreq's values."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(frequency.CACHE_ENV, str(blocker / "cache"))
    monkeypatch.setattr(frequency, "_seen", {})
    frequency._table.cache_clear()
    try:
        words = ["scan", "cghing", "can't", "y'all", "38.5"]
        assert [frequency.zipf(w) for w in words] == [zipf_frequency(w, "en") for w in words]
        assert frequency._table() is None
    finally:
        frequency._table.cache_clear()
