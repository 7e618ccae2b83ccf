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
    # queue.html
    "抽检": "Sampled",
    "从": "From",
    "到": "to",
    "清除": "Clear",
    "已提交通话 #{call} 的复核。": "The review of call #{call} has been submitted.",
    "没有可领取的通话(在当前筛选条件下)。": "No call to claim (with the current filter).",
    "正在复核": "Being reviewed",
    "领取下一通": "Claim the next call",
    "(按当前筛选)": " (with the current filter)",
    "等待自": "Waiting since",
    "队列为空": "The queue is empty",
    "锁定至": "Held until",
    # _lease.html
    "您正在复核此通话,锁定剩余": "You are reviewing this call; your hold ends in",
    "分": "min",
    "秒": "s",
    "(至 {until})": " (at {until})",
    ",已续期": ", renewed",
    "锁定已过期:其他人可以领取此通话,提交将被拒绝。": (
        "Your hold has expired: someone else may claim this call, and submitting will be refused."
    ),
    "续期": "Renew",
    "释放回队列": "Release to the queue",
    "{holder} 正在复核此通话(锁定至 {until})": "{holder} is reviewing this call (held until {until})",
    "您未持有此通话的锁定:请从": "You do not hold this call: claim it from the ",
    "队列": "queue",
    "领取后再复核。": " before reviewing it.",
    # call.html
    "时长": "Length",
    "播放 / 暂停": "Play / pause",
    "无法加载波形,正在直接加载音频。": "Could not load the waveform; loading the audio directly.",
    "快捷键": "Keys",
    "空格": "Space",
    "播放/暂停": "play/pause",
    "下一个/上一个问题": "next/previous finding",
    "确认所选": "confirm the selected finding",
    "驳回所选(填写理由)": "reject it (give a reason)",
    "在当前时间补充漏检": "add a missed finding at the current time",
    "判定": "Decision",
    "未判定": "undecided",
    "理由": "Reason",
    "驳回时必填": "required to reject",
    "没有发现问题": "No findings",
    "其他规则({n} 条:合格或不适用)": "Other rules ({n}: passed or not applicable)",
    "问题": "Finding",
    "补充": "Added",
    "补充漏检的问题": "Add missed findings",
    "可选": "optional",
    "在当前播放时间补充": "Add at the current playing time",
    "提交复核": "Submit the review",
    "转写": "Transcript",
    "混合": "mixed",
    "提交未保存:该通话在您打开后已被更改({detail})。下面是当前状态,您填写的内容已保留。": (
        "Not saved: the call changed after you opened it ({detail}). Below is its current state; what you "
        "entered is kept."
    ),
    "请选择通话的复核结论:合格或不合格": "Choose the call's result: passed or failed",
    # categories
    "开场问候": "opening greeting",
    "结束语": "closing",
    "礼貌用语": "courtesy",
    "服务忌语": "forbidden phrase",
    "风险揭示": "risk disclosure",
    "承诺收益": "promised returns",
    "挂机顺序": "hang-up order",
    "静音": "dead air",
    "未说明的等待": "unexplained hold",
    "抢话": "interruption",
    "语速": "speech rate",
    "音量": "volume",
    "问题未回应": "unanswered question",
    # audit actions
    "领取": "claimed",
    "释放": "released",
    "改派": "reassigned",
    "坐席确认": "acknowledged by the agent",
    "进入队列": "queued",
    "申诉裁定": "appeal ruled",
    "复核已提交": "review submitted",
    # error page
    "返回登录": "Back to log in",
    "返回我的通话": "Back to my calls",
    "返回用户管理": "Back to users",
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
        "na": "不适用",
        "uncertain": "待定",
        "not_applicable": "不适用",
        "confirm": "确认",
        "reject": "驳回",
        "uphold": "维持",
        "overturn": "推翻",
    },
    "severity": {"fatal": "致命", "major": "严重", "minor": "轻微"},
    "lane": {"agent": "坐席", "client": "客户", "mixed": "混合"},
    "yesno": {"yes": "是", "no": "否"},
    "category": {
        "greeting_open": "开场问候",
        "greeting_close": "结束语",
        "civility": "礼貌用语",
        "forbidden_phrase": "服务忌语",
        "risk_disclosure": "风险揭示",
        "return_promise": "承诺收益",
        "hangup_order": "挂机顺序",
        "dead_air": "静音",
        "hold_unexplained": "未说明的等待",
        "interruption": "抢话",
        "speech_rate": "语速",
        "volume": "音量",
        "unanswered_question": "问题未回应",
    },
    "action": {
        "review.claim": "领取",
        "review.release": "释放",
        "review.submit": "复核已提交",
        "review.reassign": "改派",
        "review.acknowledge": "坐席确认",
        "review.queue": "进入队列",
        "appeal.file": "提出申诉",
        "appeal.ruling": "申诉裁定",
    },
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
