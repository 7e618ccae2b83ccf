"""The words of the standard a rule cites, as the rules page shows them: the numbered items it names, the part of
its section its description points at, or the whole section; nothing for a clause the document lacks."""

from __future__ import annotations

from scoring import clause_texts

DOCUMENT = """第一条 总则
1.第一条的第一项
2.第一条的第二项
续行
3.第一条的第三项
第二条 服务用语
前言
服务忌语:
●不知道
第三条 其他
"""


def test_items_named_are_given_alone() -> None:
    assert clause_texts(DOCUMENT, "第一条 第2项") == [("第一条 第2项", "2.第一条的第二项\n续行")]
    both = "第一条 第1项、第3项"
    assert clause_texts(DOCUMENT, both) == [(both, "1.第一条的第一项\n3.第一条的第三项")]


def test_a_description_starts_the_text_where_it_occurs_and_clauses_split_on_semicolons() -> None:
    found = clause_texts(DOCUMENT, "第二条 服务忌语;第一条")
    assert found[0] == ("第二条 服务忌语", "服务忌语:\n●不知道")
    assert found[1][0] == "第一条" and found[1][1] is not None and found[1][1].startswith("总则\n1.第一条的第一项")


def test_a_missing_clause_has_no_text_and_long_text_is_cut() -> None:
    assert clause_texts(DOCUMENT, "第九条") == [("第九条", None)]
    assert clause_texts(DOCUMENT, "第一条", limit=5) == [("第一条", "总则\n1.…")]
