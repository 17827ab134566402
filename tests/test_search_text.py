"""Chinese and English analysis: what a query finds in a text (search.engine.text), through
the Whoosh backend so that both sides of the analysis meet."""

from __future__ import annotations

import pytest

from search.engine.text import (
    highlight,
    index_terms,
    normalise,
    query_terms,
    query_units,
    tracking_forms,
)
from search.engine.types import Document, SearchRequest
from search.engine.whoosh_backend import WhooshBackend

TEXTS = {
    1: "路面积水严重，车辆无法通行",
    2: "小区电梯频繁故障，老人上下楼困难",
    3: "Water pipes keep leaking in the basement",
    4: "夜间施工噪音扰民",
    5: "南京市长江大桥桥面破损",
}


@pytest.fixture
def found(tmp_path):
    backend = WhooshBackend(tmp_path / "index")
    backend.index(
        Document(kind="note", id=i, text={"body": body}, access=("all",))
        for i, body in TEXTS.items()
    )

    def ids(query: str) -> set[int]:
        response = backend.search(
            SearchRequest(kind="note", query=query, access=("all",), per_page=100)
        )
        return {hit.id for hit in response.hits}

    yield ids
    backend.close()


def test_a_word_inside_a_sentence_is_found(found):
    assert found("积水") == {1}
    assert found("电梯") == {2}
    assert found("故障") == {2}


def test_a_verbatim_run_is_found_where_jieba_cuts_otherwise(found):
    # jieba cuts 路面积水严重 as 路/面积/水/严重 and 南京市长江大桥 as 南京市/长江/大桥:
    # 积水 and 市长 are no words of these texts, yet they stand there verbatim.
    jieba_words = [w for w in index_terms(TEXTS[1]) if w in ("积水", "面积")]
    assert "面积" in jieba_words
    assert found("积水") == {1}
    assert found("市长") == {5}
    assert found("市长江") == {5}
    assert found("面积水") == {1}
    assert found("梯频繁") == {2}
    # ... but the bigram fallback stays verbatim: characters apart do not match.
    assert found("积严") == set()


def test_words_apart_still_match_by_words(found):
    assert found("电梯故障") == {2}  # 电梯 ... 故障, not next to each other
    assert found('"电梯故障"') == set()  # a phrase must stand as typed
    assert found('"电梯 频繁"') == {2}


def test_full_width_and_half_width_forms_meet(found):
    assert normalise("ＷＡＴＥＲ　２０２６") == "water 2026"
    assert found("ＷＡＴＥＲ") == {3}
    assert found("（积水）") == {1}


def test_traditional_and_simplified_characters_meet(found):
    assert normalise("路面積水嚴重") == "路面积水严重"
    assert found("積水") == {1}
    assert found("電梯") == {2}


def test_english_is_stemmed(found):
    assert found("leak") == {3}
    assert found("LEAKS") == {3}
    assert found("pipe") == {3}
    assert found("leaked basements") == {3}


def test_tracking_numbers_with_or_without_the_dash(tmp_path):
    assert tracking_forms("2026-000123") == ["2026-000123", "2026000123"]
    assert tracking_forms("２０２６０００１２３") == ["2026-000123", "2026000123"]
    assert tracking_forms("12345") == []
    backend = WhooshBackend(tmp_path / "index")
    backend.index([
        Document(kind="note", id=1, text={"body": "见案件2026-000123的答复"}, access=("all",)),
        Document(kind="note", id=2, text={"body": "无关"}, access=("all",),
                 exact={"number": tracking_forms("2026-000124")}),
    ])
    for query, expected in (("2026-000123", {1}), ("2026000123", {1}),
                            ("2026000124", {2}), ("2026-000124", {2}), ("2026", set())):
        response = backend.search(SearchRequest(kind="note", query=query, access=("all",)))
        assert {h.id for h in response.hits} == expected, query
    backend.close()


def test_query_units_offer_words_and_the_verbatim_sequence():
    [unit] = query_units("电梯故障")
    assert unit.words == ("电梯", "故障")
    assert unit.sequence == ("电梯", "梯故", "故障")
    assert "积水" in query_terms("積水")


def test_highlights_escape_the_text_and_mark_the_words():
    snippet = highlight("<b>路面積水</b> & pipes leaking", query_terms("积水 leak"))
    assert snippet == "&lt;b&gt;路面<mark>積水</mark>&lt;/b&gt; &amp; pipes <mark>leaking</mark>"
    assert highlight("无关的文字", query_terms("积水")) is None


def test_kept_analyses_give_the_same_tokens_and_fresh_lists():
    """Short texts and short Chinese runs are analysed once per process: the same tokens
    as a fresh analysis, and a caller's list is its own."""
    from search.engine import text

    short = "市政设施 路灯 Street lights 2026-000123"
    first = text.index_tokens(short)
    first.append(("changed", 99))
    assert text.index_tokens(short) == text._index_tokens(short) != first
    long = "小区门口路灯不亮，老人出行不便。" * 8  # longer than SHORT_TEXT: run by run
    warm = text.index_tokens(long)
    text._short_run_tokens.cache_clear()
    text._short_text_tokens.cache_clear()
    assert text.index_tokens(long) == warm
    run = text._run_tokens("路灯不亮")  # jieba's words and the bigrams, once each, in order
    assert [p for _t, p in run] == sorted(p for _t, p in run)
    assert {"路灯", "灯不", "不亮"} <= {t for t, _p in run}


def test_the_tsvector_literal_matches_the_general_one():
    """Positions kept as numbers with one weight a lexeme give the literal the general,
    slot-by-slot writer gives; two fields sharing a code fall back to it."""
    from search.engine.pg_query import _literal, tsvector_literal

    document = Document(kind="note", id=1, access=("all",),
                        text={"title": "路面積水", "body": "积水 leaking " * 300,
                              "district": "朝阳区 Chaoyang"},
                        exact={"number": ["2026-000001", "2026000001"]})
    assert tsvector_literal(document) == _literal(document)
    clash = Document(kind="note", id=2, access=("all",), text={"title": "积水", "t": "积水"})
    assert tsvector_literal(clash) == _literal(clash) == "'t:积水':1D,9A"


def test_rjieba_cuts_as_jieba_does():
    """``search.engine.segment`` (rjieba) gives jieba's own words on every Chinese run of
    the demo city's texts, the benches' texts and rare characters (extension A, past
    U+9FD5, the supplementary planes: jieba takes each alone), so an index built with
    jieba stays valid and queries keep meeting it."""
    import ast
    import random
    from datetime import UTC, datetime
    from pathlib import Path

    import jieba

    from bench import search_postgres as bench
    from search.engine import segment
    from search.engine.text import _TOKEN_RE, warm_up

    warm_up()
    root = Path(__file__).parents[1]
    texts = []
    for path in sorted((root / "cases" / "demo").glob("*.py")):
        texts.extend(node.value for node in ast.walk(ast.parse(path.read_text("utf-8")))
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))
    rng = random.Random(11)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(1, 301):
        texts.extend(bench.make_document(rng, i, start).text.values())
    rare = [chr(c) for c in (*range(0x3400, 0x3440), *range(0x9fd0, 0xa000),
                             *range(0x20000, 0x20040), 0x4E2D, 0x56FD, 0x4EBA)]
    texts.extend("".join(rng.choices(rare, k=rng.randrange(1, 12))) + "中国人民银行"
                 for _ in range(300))
    texts.extend(("𠀀𠀁中国𠮷野家", "長江大橋", "的的的的的的", "一" * 300))
    runs = {m.group() for t in texts for m in _TOKEN_RE.finditer(normalise(t))
            if m.lastgroup == "han"}
    assert len(runs) > 2_000
    for run in runs:
        assert set(segment.search_tokens(run)) == set(jieba.tokenize(run, mode="search")), run
        assert segment.cut(run) == list(jieba.cut(run)), run
