"""Scoring speed: calls per second per core for the full phrasebooks on 5-minute transcripts, vs. a naive baseline.

The baseline is what keyword systems do: rapidfuzz `partial_ratio` of every phrase over the whole transcript.
Both run in this process, one core, on the same synthetic calls (plausible turns, per-character word timings,
channel facts as `transcribe` produces them). Target: ≥ 400 calls/s/core for `score()`.

Each repetition times both, one after the other, so a load that comes and goes (another benchmark on the same
machine) hits both alike; the medians and their ratio are printed last. Run it from the repository root:

    .venv/bin/python -m bench.scoring [--calls N] [--minutes M] [--seconds S] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from rapidfuzz import fuzz

from scoring import Case, Phrasebook, Turn, case_transcript, load_phrasebooks, normalise, score
from transcribe import Transcript

ROOT = Path(__file__).resolve().parent.parent

OPENING = "您好,中国银河证券北京中关村营业部,请问有什么可以帮您?"
CLOSING = ["不客气,感谢您的来电,再见!", "再见。"]
AGENT = [
    "好的,请问您怎么称呼?",
    "请您先登录交易软件,查看一下银证转账的记录。",
    "那您的资金已经到账了,请您刷新一下资金页面。",
    "好的,我跟您确认一下,到账金额是五万元,对吗?",
    "这只基金的风险等级是中风险,和您的风险承受能力是匹配的。",
    "过往业绩不代表未来表现,基金的收益是不确定的,也可能出现亏损。",
    "投资有风险,请您根据自己的情况谨慎决策。",
    "我需要帮您查询一下佣金标准,请您稍等。",
    "对不起,耽误您的时间了。您的佣金是万分之二点五。",
    "明天是交易日,股市正常开市,上午九点半开盘。",
    "是的,请您在交易时间内在软件上申购就可以了。",
    "您可以在交易软件里面修改,请您点击我的,然后选择密码修改。",
    "嗯,好的,您请讲。",
    "这个业务需要您本人带身份证到营业部办理。",
    "我不知道您是否方便现在核对一下信息?",
    "这个产品不保本,收益是不确定的。",
    "研究报告只是参考,股市有风险,投资需谨慎。",
]
CLIENT = [
    "你好,我想问一下银行转账的事情。",
    "我姓王。",
    "我昨天从银行转了五万块钱到证券账户,今天还没看到。",
    "记录显示转账成功了。",
    "哦,现在看到了,是五万元。",
    "你好,我想了解一下你们在卖的那个混合型基金。",
    "做过,我是稳健型的。",
    "那它的收益大概有多少?",
    "明白了,我再考虑一下。",
    "好的,那新股申购是在明天吗?",
    "好的,我找到了,需要输入原来的密码吗?",
    "对,没问题了,谢谢你。",
    "我上周买的那只股票跌了很多,我想问问你们的分析师是怎么看的。",
    "嗯。",
    "那我应该问谁呢?",
    "好吧。",
]


def synthetic_call(rng: random.Random, seconds: float) -> Transcript:
    turns = [Turn(role="agent", text=OPENING, gap=0.7)]
    length = 0.0
    role = "client"
    while length < seconds - 10:
        text = rng.choice(CLIENT if role == "client" else AGENT)
        gap = rng.choice([0.3, 0.5, 0.6, 0.8, 1.2])
        turns.append(Turn(role=role, text=text, gap=gap))  # type: ignore[arg-type]
        length += gap + len(normalise(text)) * 0.22
        role = "agent" if role == "client" else rng.choice(["client", "client", "agent"])
    turns += [Turn(role="agent", text=CLOSING[0]), Turn(role="client", text=CLOSING[1])]
    return case_transcript(Case(rule="bench.call", name="call", expect="pass", turns=turns))


def naive(transcript: Transcript, phrases: list[str]) -> int:
    text = normalise("".join(s.text for s in transcript.segments))
    return sum(fuzz.partial_ratio(p, text) >= 80 for p in phrases)


def timed(label: str, calls: list[Transcript], run, budget_s: float) -> float:  # type: ignore[no-untyped-def]
    done, start = 0, time.perf_counter()
    while True:
        for call in calls:
            run(call)
        done += len(calls)
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s:
            break
    rate = done / elapsed
    print(f"{label:<42} {rate:8.1f} calls/s/core   ({done} calls in {elapsed:.1f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="distinct synthetic calls")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of each call")
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of both measurements")
    args = parser.parse_args()
    book: Phrasebook = load_phrasebooks(ROOT / "phrasebooks")
    rng = random.Random(7)
    calls = [synthetic_call(rng, args.minutes * 60) for _ in range(args.calls)]
    phrases = sorted({normalise(p.replace("{org}", "")) for p in book.phrases})
    chars = sum(len(normalise(s.text)) for c in calls for s in c.segments) / len(calls)
    turns = sum(len(c.segments) for c in calls) / len(calls)
    print(
        f"{len(calls)} synthetic calls of {sum(c.duration for c in calls) / len(calls):.0f} s "
        f"({turns:.0f} turns, {chars:.0f} characters each); {len(book.active_rules)} rules, {len(phrases)} phrases"
    )
    for call in calls[:3]:  # warm the lazy tables (pinyin, OpenCC, automata) outside the measurement
        score(call, book)
    rates: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        ours = timed("callqa score()", calls, lambda c: score(c, book), args.seconds)
        base = timed("naive partial_ratio of every phrase", calls, lambda c: naive(c, phrases), args.seconds)
        rates.append((ours, base))
    ours, base = (statistics.median(r) for r in zip(*rates, strict=True))
    print(
        f"median of {len(rates)}: score() {ours:.1f}, baseline {base:.1f} calls/s/core; ratio {ours / base:.1f}× "
        f"the naive baseline; target 400 calls/s/core: {'met' if ours >= 400 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
