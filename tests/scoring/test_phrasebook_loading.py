"""Phrasebooks load strictly, and a broken one is refused with one line naming file, rule and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from scoring import Phrasebook, PhrasebookError, load_phrasebooks, score
from scoring.checks import Context
from scoring.matching import CallText
from scoring.normalise import normalise
from scoring.phrasebook import (
    DeadAir,
    HoldExplained,
    Match,
    PhraseAfterAnchor,
    PhrasePresent,
    ResponseLatency,
)
from tests.scoring.factory import PHRASEBOOKS, SEEDS, book, call

GOOD_RULE = {
    "id": "greeting.test",
    "category": "greeting_open",
    "kind": "phrase_present",
    "severity": "minor",
    "points": 5,
    "message": "test",
    "source": "003_eda5909ba40dd7a1.txt 第五十四条",
    "phrases": ["您好"],
}


def _write(directory: Path, rule: dict, name: str = "extra") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "description": "d", "rules": [rule]}, allow_unicode=True))
    return path


def _load_with(tmp_path: Path, **changes: object) -> None:
    rule = {**GOOD_RULE, **changes}
    rule = {k: v for k, v in rule.items() if v is not None}
    _write(tmp_path, rule)
    load_phrasebooks(tmp_path)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"points": -1}, "extra.yaml: rule greeting.test: field points: "),
        ({"category": "politeness"}, "extra.yaml: rule greeting.test: field category: "),
        ({"kind": "phrase_maybe"}, "extra.yaml: rule greeting.test: field kind: "),
        ({"kind": None}, "extra.yaml: rule greeting.test: field kind: "),
        ({"message": None}, "extra.yaml: rule greeting.test: field message: Field required"),
        ({"max_s": 10}, "extra.yaml: rule greeting.test: field max_s: Extra inputs are not permitted"),
        ({"match": {"min_score": 101}}, "extra.yaml: rule greeting.test: field match.min_score: "),
        ({"match": {"fuzy": True}}, "extra.yaml: rule greeting.test: field match.fuzy: Extra inputs"),
        ({"source": "the standards"}, "extra.yaml: rule greeting.test: field source: "),
        ({"id": "Greeting"}, "extra.yaml: rule Greeting: field id: "),
        ({"window": {"first_s": 10, "last_s": 10}}, "extra.yaml: rule greeting.test: field window: "),
        ({"phrases": ["您好{branch}"]}, "extra.yaml: rule greeting.test: field phrases: unknown placeholder {branch}"),
        ({"phrases": ["!!"]}, "extra.yaml: rule greeting.test: field phrases: phrase has no letters"),
    ],
)
def test_bad_rule_is_refused_naming_file_rule_and_field(tmp_path: Path, changes: dict, expected: str) -> None:
    with pytest.raises(PhrasebookError) as caught:
        _load_with(tmp_path, **changes)
    assert str(caught.value).startswith(expected), str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_regex_is_refused(tmp_path: Path) -> None:
    rule = {**GOOD_RULE, "kind": "regex_absent", "patterns": ["(保本"]}
    del rule["phrases"]
    _write(tmp_path, rule)
    with pytest.raises(PhrasebookError, match=r"extra.yaml: rule greeting.test: field patterns: .*bad regular"):
        load_phrasebooks(tmp_path)


def test_duplicate_rule_id_across_files_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD_RULE, "a")
    _write(tmp_path, GOOD_RULE, "b")
    with pytest.raises(PhrasebookError, match=r"b.yaml: rule greeting.test: field id: already defined in a.yaml"):
        load_phrasebooks(tmp_path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: x\nrules: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(PhrasebookError, match=r"^broken.yaml: line \d+: not valid YAML"):
        load_phrasebooks(tmp_path)


def test_missing_directory_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(PhrasebookError, match="does not exist"):
        load_phrasebooks(tmp_path / "nope")
    with pytest.raises(PhrasebookError, match="no phrasebook"):
        load_phrasebooks(tmp_path)


def test_bad_scorecard_is_refused(tmp_path: Path) -> None:
    shutil.copy(PHRASEBOOKS / "hangup.yaml", tmp_path)
    (tmp_path / "scorecard.yaml").write_text("pass_mark: 90\ncaps: {greeting: 10}\n", encoding="utf-8")
    with pytest.raises(PhrasebookError, match=r"^scorecard.yaml: field caps.greeting.\[key\]: "):
        load_phrasebooks(tmp_path)


def test_deprecated_rules_are_kept_but_not_scored(tmp_path: Path) -> None:
    _write(tmp_path, {**GOOD_RULE, "status": "deprecated"})
    _write(tmp_path, {**GOOD_RULE, "id": "greeting.other"}, "other")
    loaded = load_phrasebooks(tmp_path)
    assert loaded.rule("greeting.test").status == "deprecated"
    assert [r.id for r in loaded.active_rules] == ["greeting.other"]


# The seed lists (003 第五十三条, 第五十四条 第19项/第20项) that calls can be checked against, plus the other service
# phrases the seeds prescribe: 003 第五十二条 请稍候 and 第七十八条 第2项; 001 the telephone opening and closing.
SERVICE_PHRASES = [
    "您好,中国银河证券*****营业部!", "您好,我能帮你做点什么?", "您好,有什么需要我帮忙吗?", "您好,这边请!",
    "请问,您办理什么业务?", "对不起,我没有听清楚,请您重复一遍好吗?", "请稍等!", "您的×××填写有误,请重填一下,好吗?",
    "请出示您的证件(身份证等)!", "对不起,耽误您的时间了!", "没关系,这是我应该做的!", "请在这份凭证上签名!",
    "请收好您的凭证!", "再见!请慢走!", "欢迎您再来!再见!", "如有任何问题,请拨打我们的电话。再见!",
    "感谢您的建议。再见!", "由于我们的疏忽给您添了麻烦,对不起。", "我可以帮您做些什么?", "我能为您提供哪方面的服务?",
    "我能为您做些什么?", "我会找出正确答案的", "我所能做的是……", "这是能帮助您的人", "我理解您的感受",
    "让我看看我能为这件事做些什么", "让我来帮助您", "我会尽全力", "对不起", "我XX分钟后就回来", "再见!",
    "感谢您的来电,谢谢!", "请稍候", "您好,请问有什么我可以帮忙的吗?", "请问,您需要办理什么业务?", "请慢走,再见",
    "您好,国瑞投资,请问您有什么需要帮助", "谢谢您的来电",
]  # fmt: skip
# Every 服务忌语 of 003 第五十三条 and 第五十四条 第20项, one per line as the seed prints it ("快点!" and "我要下班了!"
# are two lines there, so each must fire alone). Not in the list: "喂!" alone, which is how agents answer the
# phone ("喂,您好"); the rude part of that item, "讲话,你是谁?", is.
FORBIDDEN_PHRASES = [
    "喂!讲话,你是谁?", "讲话,你是谁?", "不知道。", "喊什么,不能等一会。", "怎么填的,重新填!", "没看我正忙着,着什么急。",
    "我解决不了,你找经理去。", "刚才和你说过了,怎么还问?", "你有完没完?", "门口有公告栏,自己看去!",
    "手续不齐,弄清楚了再来!", "这是电脑算得,不信一边自己算去?", "你问我,我问谁。", "我有什么办法,又不是我让它坏的?",
    "这是交易所的事,有意见找它去!", "快点!", "我要下班了!", "下班了,不办了!", "你管不着,就这态度。", "废话!", "讨厌!",
    "我不知道", "不行", "那不是我的工作", "那,你是对是吗?", "那不是我的错", "你需要和经理通话", "你马上就要吗?",
    "冷静一点", "我现在很忙",
]  # fmt: skip
# The same, as an agent would say them in a sentence.
FORBIDDEN_IN_SENTENCES = [
    "喂,讲话呀,你是谁啊?", "这个我也不知道。", "你喊什么呀,就不能等一会吗?", "你这是怎么填的,重新填一张!",
    "没看我这正忙着吗,你着什么急啊。", "这事我解决不了,你自己找经理去吧。", "我刚才不是和你说过了吗,怎么还问?",
    "你到底有完没完啊?", "营业部门口有公告栏,你自己看去。", "你这手续不齐,弄清楚了再来办。", "弄清楚了再来!",
    "这都是电脑算的,不信你一边自己算去。", "你问我,那我问谁去啊。", "系统坏了我有什么办法,又不是我让它坏的。",
    "停牌是交易所的事,你有意见找它去。", "你快点!", "快点,我这边还有别的客户。", "你能不能快点说。",
    "我马上要下班了。", "我们要下班了。", "都下班了,不办了。", "这你管不着,我就这态度。", "你这不是废话吗。",
    "真讨厌。", "这个事情我不知道。", "这个不行。", "那不是我的工作范围。", "那你是对的是吗", "那你是对的是吧。",
    "那又不是我的错。", "这个你需要和经理通话。", "你马上就要吗?那得等等。", "你先冷静一点。",
    "我现在很忙,你晚点再打。",
]  # fmt: skip


# What stands for the seeds' blanks in a made-up agent turn: 营业部 name, a form field, a number of minutes.
_BLANKS = {"*****": "北京中关村", "**": "北京中关村", "×××": "身份证号码", "XX": "十", "……": "查询和转接"}
COVERAGE = 0.5  # a seed phrase is checked when one rule's phrases, as matched, cover at least this share of it


@pytest.mark.parametrize("seed", SERVICE_PHRASES)
def test_every_seed_service_phrase_is_checked_or_declared_not_applicable(seed: str) -> None:
    """An agent turn saying the seed phrase is matched, by the phrases one rule looks for (with that rule's own
    match settings, through the engine's search), over at least half of the phrase's characters. A generic word
    a rule happens to contain (您, 请, 对不起 in a longer phrase) is not enough."""
    loaded = book()
    coverage, rule_id = _best_coverage(seed, loaded)
    if normalise(seed) in {normalise(k) for k in loaded.not_applicable}:
        assert coverage < COVERAGE, f"{seed!r} is declared not applicable, yet {rule_id} checks it: drop one"
        return
    assert coverage >= COVERAGE, (
        f"no rule checks {seed!r}: best is {rule_id} covering {coverage:.0%} of it; add the phrase to a rule "
        "(with cases) or declare it under not_applicable: with the reason"
    )


def test_not_applicable_entries_quote_the_seeds() -> None:
    seeds = normalise("".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")))
    for phrase, reason in book().not_applicable.items():
        assert normalise(phrase) in seeds, f"not_applicable {phrase!r} is not a seed phrase"
        assert reason.strip(), f"not_applicable {phrase!r} gives no reason"


def test_coverage_check_can_fail() -> None:
    """The check above is not vacuous: ordinary words that no rule looks for, or a phrase sharing only 您/请/什么
    with rule phrases, are not covered."""
    loaded = book()
    assert _best_coverage("请问您今天中午吃了什么?", loaded)[0] < COVERAGE
    assert _best_coverage("我这边帮您把资料寄过去", loaded)[0] < COVERAGE


@pytest.mark.parametrize("seed", FORBIDDEN_PHRASES + FORBIDDEN_IN_SENTENCES)
def test_every_seed_forbidden_phrase_fails_a_forbidden_phrase_rule(seed: str) -> None:
    """Said alone (the whole call) and inside an ordinary call: fuzzy matches can depend on the turns around."""
    for turns in ((("agent", seed),), (("agent", "您好,中国银河证券。"), ("client", "我想问一下。"), ("agent", seed))):
        card = score(call(*turns), book())
        failed = [f.rule_id for f in card.findings if f.category == "forbidden_phrase" and f.verdict == "fail"]
        assert failed, f"{seed!r} fired no forbidden_phrase rule in {len(turns)}-turn call"


def _best_coverage(seed: str, loaded: Phrasebook) -> tuple[float, str | None]:
    """(share of the seed phrase's characters that one rule's wanted phrases match in an agent turn saying it,
    that rule's id), for the best rule."""
    filled = seed
    for blank, stand_in in _BLANKS.items():
        filled = filled.replace(blank, stand_in)
    turn = f"好的,{filled}"
    transcript = call(("agent", turn))
    text = CallText(transcript)
    ctx = Context(transcript, text, loaded, loaded.index.search(text), hangup=None)  # type: ignore[arg-type]
    said = normalise(filled)
    begin = normalise(turn).index(said)
    indices = ctx.turns("agent")
    best: tuple[float, str | None] = (0.0, None)
    for rule in loaded.active_rules:
        covered: set[int] = set()
        for phrases, match in _wanted(rule):
            for hit in ctx.find(phrases, indices, match):
                covered.update(i for i in range(hit.start, hit.end) if begin <= i < begin + len(said))
        best = max(best, (len(covered) / len(said), rule.id), key=lambda b: b[0])
    return best


def _wanted(rule: object) -> list[tuple[list[str], Match]]:
    """The phrases a rule wants the agent to say (not the ones it forbids), each list with its match settings."""
    if isinstance(rule, PhrasePresent | HoldExplained):
        return [(rule.phrases, rule.match)]
    if isinstance(rule, PhraseAfterAnchor):
        return [(rule.phrases, rule.match), (rule.anchor.phrases, rule.anchor.match)]
    if isinstance(rule, DeadAir | ResponseLatency) and rule.hold_phrases:
        return [(rule.hold_phrases, rule.match)]
    return []
