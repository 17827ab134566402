"""Smart intake's learning core (issue 15), without a database: the time split, the model
on a generated history whose right answers are known, the catalogue's words, per-level
figures, and the bench's CSV reader and output."""

from __future__ import annotations

import random
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cases.smart_intake.features import CatalogueEntry, catalogue_documents, request_text, words
from cases.smart_intake.training import Example, compare, evaluate, fit, time_split

VOCABULARY = {
    "noise": ("夜间施工噪音", "广场舞音响太吵", "酒吧噪声扰民", "装修电钻声"),
    "roads": ("路面坑洼", "井盖缺失", "道路塌陷", "人行道破损"),
    "water": ("停水没有通知", "自来水发黄", "水管爆裂", "水压太低"),
    "school": ("学校乱收费", "幼儿园学位", "入学报名", "校车超载"),
}
PLACES = ("五一路", "工业路", "杨桥路", "阳光城小区", "东浦新村")
START = datetime(2026, 1, 1)


def history(count: int = 120, seed: int = 3) -> list[Example]:
    rng = random.Random(seed)
    labels = list(VOCABULARY)
    rows = []
    for i in range(count):
        label = rng.choices(labels, (4, 3, 2, 1))[0]  # uneven on purpose
        title = f"{rng.choice(PLACES)}{rng.choice(VOCABULARY[label])}"
        body = f"{title}，已经好几天了，希望有关部门尽快处理。"
        rows.append(Example(request_text(title, body), label, START + timedelta(hours=i)))
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return history()


def test_time_split_tests_only_newer_cases(examples):
    train, test = time_split(examples)
    assert len(test) == round(len(examples) * 0.2)
    assert max(e.filed_at for e in train) < min(e.filed_at for e in test)
    # Cases filed at the same instant stay on one side.
    same = [Example("a", "x", START), Example("b", "y", START), Example("c", "x", START)]
    train, test = time_split([*same, Example("d", "y", START + timedelta(1))], 0.5)
    assert {e.text for e in test} == {"d"} and len(train) == 3


def test_model_learns_a_known_history(examples):
    train, test = time_split(examples)
    model = fit([e.text for e in train], [e.label for e in train])
    result = evaluate(model, [e.text for e in test], [e.label for e in test])
    assert result.top1 >= 0.9 and result.top3 == 1.0
    probabilities = model.predict_proba(["杨桥路井盖缺失好危险"])[0]
    assert all(0 <= p <= 1 for p in probabilities) and sum(probabilities) == pytest.approx(1)
    assert model.rank("杨桥路井盖缺失好危险", k=1)[0][0] == "roads"
    assert result.per_label["noise"]["cases"] > 0


def test_the_catalogue_words_teach_a_category_without_cases(examples):
    catalogue = [CatalogueEntry("pets", ("城市管理", "犬只管理"), ("遛狗不牵绳", "流浪狗"),
                                "养犬登记与不文明养犬")]
    texts, labels = catalogue_documents(catalogue)
    assert labels == ["pets"] * 3 and "犬只管理" in texts[0]
    model = fit([e.text for e in examples], [e.label for e in examples], catalogue)
    assert "pets" in model.classes
    assert model.rank(request_text("小区里流浪狗很多", "遛狗不牵绳吓到孩子"), k=1)[0][0] == "pets"


def test_compare_reports_model_baseline_and_levels(examples):
    coarse = {"noise": "环境", "water": "城建", "roads": "城建", "school": "教育"}
    result = compare(examples, levels={"1": coarse.get})
    assert result.trained + result.tested == len(examples)
    assert result.split_at is not None
    assert 0.8 <= result.model.top1 <= 1 and 0 < result.baseline.top1 <= 1
    level_model, level_baseline = result.levels["1"]
    assert level_model.top1 >= result.model.top1 and set(level_model.per_label) <= {
        "环境", "城建", "教育"}
    assert level_baseline.cases == result.tested


def test_words_drop_filler_and_punctuation():
    found = words("希望有关部门尽快处理：五一路井盖缺失！")
    assert "井盖" in found and "希望" not in found and "！" not in found


def test_bench_reads_the_import_format_and_prints_the_final_line(tmp_path, capsys,
                                                                 monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import intake_accuracy

    generated = intake_accuracy.generate(200, 1)
    counts = {label: sum(1 for _, x, _ in generated if x == label)
              for label in intake_accuracy.CLASSES}
    assert len(generated) == 200 and counts["城乡建设"] > 2 * counts["交通运输"]
    lines = ["title,description,category,filed_at"]
    for i, example in enumerate(history(60)):
        top = {"noise": "环境保护", "roads": "城乡建设", "water": "城乡建设",
               "school": "教育文体"}[example.label]
        title = example.text.split("\n")[0]
        lines.append(f"{title},{title}。,{top}/{example.label},2026-02-{1 + i % 27:02d} 10:{i:02d}")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    rows = intake_accuracy.read_csv(path, 1)
    assert len(rows) == 60 and {label for _, label, _ in rows} <= {"环境保护", "城乡建设",
                                                                    "教育文体"}
    monkeypatch.setattr(sys, "argv", ["intake_accuracy.py", "--csv", str(path)])
    intake_accuracy.main()
    out = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("baseline") for line in out)
    assert re.fullmatch(r"top-1 \d\.\d{3} top-3 \d\.\d{3}", out[-1])
