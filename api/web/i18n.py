"""The pages speak Chinese; a `lang=en` cookie shows them in English. Templates write the Chinese label inside
`t(...)`, and `EN` gives its English: the Chinese text is the key, so a template reads as the page does."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context

LANG_COOKIE = "lang"
LANGUAGES = ("zh", "en")

EN: dict[str, str] = {
    # base.html
    "通话质检": "Call QA",
    "待复核队列": "Review queue",
    "我的通话": "My calls",
    "申诉": "Appeals",
    "规则": "Rules",
    "看板": "Dashboard",
    "用户管理": "Users",
    "退出登录": "Log out",
    "语言": "Language",
    # roles
    "坐席": "agent",
    "主管": "supervisor",
    "高级主管": "senior supervisor",
    "培训师": "trainer",
    "管理员": "admin",
    "客户": "client",
    # common words
    "通话": "Call",
    "得分": "Score",
    "合格": "Passed",
    "不合格": "Failed",
    "待定": "Uncertain",
    "不适用": "Not applicable",
    "是": "yes",
    "否": "no",
    "营业部": "Branch",
    "坐席工号": "Agent ID",
    "通话时间": "Call time",
    "评分时间": "Scored at",
    "复核状态": "Review state",
    "复核结论": "Review decision",
    "需复核": "Needs review",
    "已确认": "Acknowledged",
    "没有通话。": "No calls.",
    "查看录音": "Open the recording",
    "返回": "Back",
    # review states
    "无需复核": "not needed",
    "排队中": "queued",
    "复核中": "being reviewed",
    "已复核": "reviewed",
    "申诉中": "appealed",
    "已裁定": "ruled",
    # findings
    "发现的问题": "Findings",
    "规则编号": "Rule",
    "类别": "Category",
    "严重程度": "Severity",
    "扣分": "Points",
    "依据": "Source",
    "证据": "Evidence",
    "机器判定": "Machine verdict",
    "时间": "Time",
    "复核记录": "Review history",
    "复核人": "Reviewer",
    "意见": "Comment",
    "确认": "confirmed",
    "驳回": "rejected",
    # /my
    "我的通话与评分": "My calls and scores",
    "申诉截止": "Appeal by",
    "提出申诉": "File an appeal",
    "申诉理由": "Reason for the appeal",
    "申诉哪些问题(不选则全部)": "Findings appealed (none ticked: all)",
    "提交申诉": "Submit the appeal",
    "申诉期已过或尚未复核,不能申诉。": "Cannot be appealed: not reviewed yet, or the appeal period is over.",
    "确认已阅": "Acknowledge",
    "已确认已阅": "Acknowledged",
    "申诉已提交。": "The appeal has been filed.",
    "我的申诉": "My appeals",
    # /appeals
    "待裁定的申诉": "Open appeals",
    "已裁定的申诉": "Ruled appeals",
    "申诉单": "Appeal",
    "提交时间": "Filed at",
    "状态": "State",
    "没有申诉。": "No appeals.",
    "裁定": "Ruling",
    "维持": "uphold",
    "推翻": "overturn",
    "裁定意见": "Comment on the ruling",
    "提交裁定(不可更改)": "Submit the ruling (final)",
    "裁定结果": "Rulings",
    "全部问题": "all findings",
    "待裁定": "open",
    # /rules
    "质检规则": "Scoring rules",
    "条规则": "rules",
    "标准原文": "Text of the standard",
    "未在标准中找到该条款。": "This clause is not in the standard.",
    "测试用例": "Cases",
    "应通过": "should pass",
    "应不通过": "should fail",
    "应待定": "should be uncertain",
    "应不适用": "should not apply",
    "说明": "Why",
    "停用": "retired",
    "致命": "fatal",
    "严重": "major",
    "轻微": "minor",
    # /dashboard
    "质检看板": "Dashboard",
    "已评分通话": "Calls scored",
    "合格率": "Pass rate",
    "待复核": "Needing review",
    "队列中": "In the queue",
    "每日趋势": "Per day",
    "日期": "Day",
    "评分日期": "day scored",
    "通话日期": "day of the call",
    "失败最多的规则": "Top failing rules",
    "次数": "Count",
    "按营业部": "Per branch",
    "按坐席": "Per agent",
    "平均分": "Average score",
    "评分通话数": "Scored",
    "不合格数": "Failed",
    "待复核数": "Needing review",
    "通话列表": "Calls",
    "筛选": "Filter",
    "清除筛选": "Clear the filter",
    "最多显示": "showing at most",
    # /admin
    "用户与角色": "Users and roles",
    "用户名": "User name",
    "角色": "Role",
    "坐席工号(坐席必填)": "Agent ID (agents only)",
    "营业部(逗号分隔,空为全部)": "Branches (comma-separated; empty: all)",
    "密码(至少8位)": "Password (8 characters or more)",
    "添加用户": "Add user",
    "停用该用户": "Disable",
    "已停用": "disabled",
    "启用中": "active",
    "全部": "all",
    "操作": "Action",
    # login.html
    "登录": "Log in",
    "密码": "Password",
    "用户名或密码错误": "Wrong user name or password",
    # errors
    "出错了": "Something went wrong",
    "无法完成": "Could not complete",
    "返回队列": "Back to the queue",
}


# Stored values (roles, states, verdicts) and their Chinese labels; `label(kind, value)` translates those too.
LABELS: dict[str, dict[str, str]] = {
    "role": {
        "agent": "坐席",
        "supervisor": "主管",
        "senior_supervisor": "高级主管",
        "trainer": "培训师",
        "admin": "管理员",
        "client": "客户",
    },
    "state": {
        "not_needed": "无需复核",
        "queued": "排队中",
        "claimed": "复核中",
        "reviewed": "已复核",
        "appealed": "申诉中",
        "ruled": "已裁定",
        "open": "待裁定",
    },
    "verdict": {
        "fail": "不合格",
        "pass": "合格",
        "uncertain": "待定",
        "not_applicable": "不适用",
        "confirm": "确认",
        "reject": "驳回",
        "uphold": "维持",
        "overturn": "推翻",
    },
    "severity": {"fatal": "致命", "major": "严重", "minor": "轻微"},
}


def language(request: Any) -> str:
    chosen = request.cookies.get(LANG_COOKIE) if request is not None else None
    return chosen if chosen in LANGUAGES else "zh"


def translate(lang: str, text: str) -> str:
    """`text` (Chinese) in `lang`; a label without an English entry stays Chinese rather than disappear."""
    return EN.get(text, text) if lang == "en" else text


@pass_context
def _t(context: Any, text: str) -> str:
    return translate(language(context.get("request")), text)


@pass_context
def _label(context: Any, kind: str, value: object) -> str:
    if value is None:
        return ""
    text = LABELS[kind].get(str(value), str(value))
    return translate(language(context.get("request")), text)


@pass_context
def _lang(context: Any) -> str:
    return language(context.get("request"))


def install(environment: Environment) -> None:
    environment.globals["t"] = _t
    environment.globals["lang"] = _lang
    environment.globals["label"] = _label
