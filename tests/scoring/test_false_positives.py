"""Ordinary speech fails no forbidden-phrase, risk-disclosure or return-promise rule.

Each sentence is what agents and clients say in account-service calls. It shares words with a rule
(股票, 收益, 基金, 推荐, 保证, 绝对安全, 保本, 刚性兑付, 快点, 不知道, 你是谁, 怎么填的, 废话 …)
without being product talk, a promise or a forbidden phrase. It is scored alone and inside an ordinary
call (greeting, the sentence, closing), since fuzzy matching can depend on the turns around it."""

from __future__ import annotations

import pytest

from scoring import score
from tests.scoring.factory import book, call

CHECKED = {"forbidden_phrase", "risk_disclosure", "return_promise"}
OPEN = ("agent", "您好,中国银河证券北京营业部,请问有什么可以帮您?")
CLOSE = ("agent", "感谢您的来电,再见!")

INNOCENT: list[tuple[tuple[str, str], ...]] = [
    # account service that mentions products or returns (not a product being recommended or its returns discussed)
    (("client", "我股票账户的密码忘记了。"), ("agent", "好的,我帮您重置一下密码。")),
    (("client", "我想查一下上个月的收益到账没有。"), ("agent", "已经到账了。")),
    (("client", "我的基金赎回的钱什么时候到账?"), ("agent", "一般是T加二个工作日到账。")),
    (("client", "我买的理财产品到期了,钱怎么还没到?"), ("agent", "我帮您查一下,到期资金会在三个工作日内返还。")),
    (("client", "我想把股票转托管到别的券商。"), ("agent", "好的,请您先在转入券商办理转托管手续。")),
    (("client", "开户的时候填的推荐人能改吗?"), ("agent", "推荐人可以在营业部修改。")),
    (("client", "基金分红到账了吗?"), ("agent", "分红已经到您的资金账户了。")),
    (("client", "我的股票怎么停牌了?"), ("agent", "这只股票今天因为重大事项停牌。")),
    (("client", "我账户今年的收益率在哪里看?"), ("agent", "请您在软件的资产页面查看收益率。")),
    (("client", "理财账户怎么开通?"), ("agent", "您可以在手机上开通理财账户。")),
    (("agent", "推荐您使用手机APP办理,比较方便。"),),
    (("client", "你们这个推荐码怎么用?"), ("agent", "开户时填写推荐码就可以了。")),
    (("client", "股票交易的手续费是多少?"), ("agent", "佣金是万分之二点五。")),
    (("client", "这个月的收益怎么还是负的?"), ("agent", "我帮您看一下持仓明细。")),
    (("client", "我想卖出股票怎么操作?"), ("agent", "您在交易页面点击卖出就可以了。")),
    (("client", "新股申购额度怎么算?"), ("agent", "根据您前二十个交易日的持仓市值计算。")),
    # safety, negated promises and risk talk (not a promise of principal or returns)
    (("agent", "请放心,您的账户信息是绝对安全的。"),),
    (("agent", "您的资金在银行第三方存管,是绝对安全的。"),),
    (("agent", "现在理财产品已经打破刚性兑付了,投资有风险。"),),
    (("agent", "刚性兑付早就被打破了。"),),
    (("agent", "这种操作本身没有风险提示的必要。"),),
    (("agent", "这个我们没法保证收益。"),),
    (("agent", "我不敢保证收益。"),),
    (("agent", "保本基金现在已经没有了。"),),
    (("agent", "谁都没法保证能赚钱。"),),
    (("agent", "没人敢保证收益。"),),
    (("agent", "世上没有稳赚不赔的投资。"),),
    (("agent", "投资都有风险,没有零风险的产品。"),),
    (("agent", "您的保本价是十二块三毛。"),),
    (("agent", "您还没有风险测评,需要先做一下。"),),
    (("agent", "资管新规以后已经不允许保本了,我们不能承诺保本。"),),
    (("agent", "投资没有风险是不可能的。"),),
    (("agent", "收益肯定会有波动,您要有心理准备。"),),
    (("agent", "我保证给您回电话。"),),
    (("agent", "我一定会帮您查清楚。"),),
    (("agent", "基金投资有风险。"),),
    (("agent", "好的,投资有风险。"),),
    # words of the 服务忌语 in service speech (not said to the client's face as the forbidden phrase)
    (("agent", "快点击右上角的按钮。"),),
    (("agent", "我尽量快点帮您处理。"),),
    (("agent", "这样到账会快点。"),),
    (("agent", "有没有快点的办法?我帮您问问。"),),
    (("agent", "您赶快点一下确认。"),),
    (("agent", "我尽快帮您处理。"),),
    (("agent", "喂,您好,请问是王先生吗?"),),
    (("agent", "喂?您还在吗?"),),
    (("agent", "请您讲话大声一点,我这边听不太清。"),),
    (("agent", "请问你是谁的家属?"),),
    (("agent", "我不知道您是否方便现在核对一下信息?"),),
    (("agent", "不知道您还有什么其他问题吗?"),),
    (("agent", "您不知道密码也没关系,我帮您重置。"),),
    (("agent", "如果不知道的话,可以在软件里查看。"),),
    (("agent", "您先别着急,我帮您查一下。"),),
    (("agent", "您是怎么填的?我帮您核对一下。"),),
    (("agent", "麻烦您重新填一下申请表。"),),
    (("agent", "我帮您转接给经理,您看可以吗?"),),
    (("agent", "营业部门口有公告栏,上面有营业时间,我也可以告诉您。"),),
    (("agent", "您的手续不齐,需要补充身份证复印件。"),),
    (("agent", "这是系统自动计算的,我帮您核对一下明细。"),),
    (("agent", "这是交易所的规定,我给您解释一下。"),),
    (("agent", "您说得对,是我们的问题。"),),
    (("agent", "这不是您的错,是系统的问题。"),),
    (("agent", "我们下午三点收市,您可以明天再办理。"),),
    (("agent", "我下班前一定给您回电。"),),
    (("agent", "您看这样行不行?"),),
    (("agent", "这个跟银行不同,证券不属于银行业务。"),),
    (("agent", "我理解您的感受,我会尽全力帮您解决。"),),
    (("agent", "这个废话不多说,我直接告诉您步骤。"),),
    (("client", "快点吧,我赶时间。"), ("agent", "好的,我马上帮您办。")),
]


def _failed(turns: tuple[tuple[str, str], ...]) -> list[str]:
    card = score(call(*turns), book())
    return [f"{f.rule_id}: {f.evidence}" for f in card.findings if f.category in CHECKED and f.verdict == "fail"]


@pytest.mark.parametrize("turns", INNOCENT, ids=[" / ".join(t for _, t in turns)[:40] for turns in INNOCENT])
def test_ordinary_speech_fails_no_phrase_rule(turns: tuple[tuple[str, str], ...]) -> None:
    assert _failed(turns) == []
    assert _failed((OPEN, *turns, CLOSE)) == []
