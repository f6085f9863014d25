"""Documents for the sample company: KB articles, troubleshooting guides, FAQs, manuals, release notes.

Articles reuse each topic's causes and steps, and quote a real-looking example case, so search
finds the same knowledge from the ticket side and the article side; authors are people skilled
in the topic, which is part of the evidence expert finding uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from kcrm.ontology.taxonomy import Concept
from kcrm.sample.catalog import SOFTWARE, TOPIC_TEAMS, TOPICS, ProductRow
from kcrm.sample.common import Record, fill, make_slots, record, rel_from, rel_to, scenarios_for
from kcrm.sample.people import Employee

DOC_PLAN = (("kb-article", 45), ("troubleshooting-guide", 35), ("faq", 30), ("manual", 20), ("release-notes", 20))
_TECHNICAL = ("topic-installation", "topic-driver-update", "topic-wifi", "topic-vpn", "topic-performance",
              "topic-data-sync", "topic-printing", "topic-battery-power", "topic-login-password",
              "topic-2fa", "topic-api-errors", "topic-sso", "topic-license-activation", "topic-malware")
_TOPIC_OFFSET = {"kb-article": 0, "troubleshooting-guide": 11, "faq": 5}
_NO_MANUAL = ("cat-printer-supplies", "cat-support-plans", "cat-extended-warranty")

_EN: dict[str, Any] = {
    "kb-article": ["{label}: what to do on the {product}", "How to resolve {label_lc} issues on the {product}",
                   "{product}: {label_lc} explained", "Knowledge base: {label} ({model})"],
    "troubleshooting-guide": ["Troubleshooting {label_lc} on the {product}", "{product} troubleshooting guide: {label_lc}",
                              "Step by step: fixing {label_lc} problems ({model})"],
    "faq": ["FAQ: {label}", "{label}: frequently asked questions", "Frequently asked questions: {label_lc} for {kind} customers"],
    "manual": ["{product} user manual", "{product} quick-start and setup guide"],
    "release-notes": ["{product} {version} release notes", "What's new in {product} {version}"],
    "intro": ["This article applies to the {product} ({model}) and explains how support handles {label_lc} cases.",
              "Use this article when a customer with a {product} contacts us about {label_lc}.",
              "Customers of the {product} sometimes run into {label_lc} problems. Here is what usually causes them and how to fix them."],
    "before": "Before you begin: note the exact error message, the software or firmware version and when the problem started, and make sure the {kind} runs the latest release.",
    "closing": ["If the problem persists, open a case in the customer portal and quote article {uid}. SkyCare Business and Premier customers can call the priority line.",
                "Still stuck? Reply to your case or contact us by chat and mention article {uid}, so the agent can pick up where this article leaves off."],
    "h": {"questions": "Typical questions", "why": "Why it happens", "do": "What to do", "steps": "Steps",
          "example": "Example from a support case", "reported": "A customer reported", "fixed": "Resolution",
          "overview": "Overview", "setup": "Setting up", "warranty": "Warranty and support", "licence": "Licence and support", "fixes": "Fixed issues",
          "improve": "Improvements", "update": "How to update"},
    "faq_intro": "Answers to the questions customers ask most about {label_lc}.",
    "warranty": "The {product} is covered by the Skylark standard warranty; see the warranty policy for your country. Register the serial number to get updates and faster support.",
    "licence": "{product} is licensed under the Skylark software licence terms. A subscription includes all updates and support for its term; keys are tied to an edition and region, and seats can be reassigned in the admin console.",
    "released": "Released {date}. This release is recommended for all {product} customers.",
    "improvements": ["Faster start-up and lower memory use.", "Updated security certificates.", "Improved diagnostics logs for support.",
                     "Updated translations, including Simplified Chinese.", "Better compatibility with {os}."],
    "how_update": "Updates are offered automatically; administrators can also download version {version} from the support site and deploy it centrally. Do not power off devices during a firmware update.",
    "fixed_prefix": "Fixed: ",
}
_ZH: dict[str, Any] = {
    "kb-article": ["{product}{label}问题处理方法", "{label}：{product}常见问题及解决办法", "知识库：{product}（{model}）{label}"],
    "troubleshooting-guide": ["{product}{label}故障排查指南", "{label}排查步骤（{model}）", "手把手排查：{product}{label}"],
    "faq": ["常见问题：{label}", "{label}常见问题解答", "{kind}用户{label}常见问题"],
    "manual": ["{product}用户手册", "{product}快速入门与安装指南"],
    "release-notes": ["{product} {version}版本发布说明", "{product} {version}更新日志"],
    "intro": ["本文适用于{product}（型号{model}），说明客服在处理{label}类工单时的标准做法。",
              "使用{product}的客户咨询{label}相关问题时，可参考本文。",
              "{product}用户偶尔会遇到{label}方面的问题，下面介绍常见原因和解决办法。"],
    "before": "开始之前：记下完整的报错信息、软件或固件版本以及问题出现的时间，并确认{kind}已升级到最新版本。",
    "closing": ["如问题仍未解决，请在客户中心提交工单并注明文章编号{uid}。购买商务支持或企业尊享支持的客户可拨打优先服务热线。",
                "仍未解决？请直接回复原工单或通过微信客服联系我们，并注明文章编号{uid}，方便工程师接着处理。"],
    "h": {"questions": "常见问题", "why": "原因", "do": "解决方法", "steps": "排查步骤", "example": "工单案例",
          "reported": "客户反馈", "fixed": "处理结果", "overview": "产品概述", "setup": "安装设置", "warranty": "保修与支持", "licence": "许可与支持",
          "fixes": "问题修复", "improve": "功能改进", "update": "升级方法"},
    "faq_intro": "以下是客户关于{label}最常问的问题。",
    "warranty": "{product}享受云雀系统标准保修服务，具体以所在地区的保修政策为准。注册序列号可及时获取更新并享受更快的支持。",
    "licence": "{product}按云雀系统软件许可条款授权使用。订阅期内包含全部更新和技术支持；激活码与版本、区域绑定，授权可在管理后台重新分配。",
    "released": "发布日期：{date}。建议所有{product}用户升级。",
    "improvements": ["启动速度更快，内存占用更低。", "更新了安全证书。", "完善了诊断日志，便于客服排查。", "优化了简体中文界面翻译。",
                     "提升了与{os}的兼容性。"],
    "how_update": "系统会自动推送更新，管理员也可以从官网下载{version}版本统一部署。固件升级过程中请勿断电。",
    "fixed_prefix": "修复：",
}


@dataclass(frozen=True)
class DocContext:
    """What the document generator reads; built once by the orchestrator."""

    products: list[tuple[str, ProductRow]]
    employees: list[Employee]
    owners: dict[str, str]
    topics: dict[str, Concept]
    texts: dict[str, dict[str, dict[str, list[str]]]]
    cases: dict[tuple[str, str], list[tuple[str, str, str, str]]]


def _label_lc(label: str) -> str:
    first = label.split()[0]
    return label[0].lower() + label[1:] if first.isalpha() and first[1:].islower() else label


def _author(rng: random.Random, ctx: DocContext, topic: str, lang: str) -> Employee:
    skilled = [e for e in ctx.employees if topic in e.skills and lang in e.languages]
    if skilled:
        return rng.choices(skilled, [e.skills[topic] ** 2 * (1 if e.languages[0] == lang else 0.5) for e in skilled])[0]
    return rng.choice([e for e in ctx.employees if e.team == TOPIC_TEAMS[topic] and lang in e.languages])


def _products_for(ctx: DocContext, topic: str) -> list[tuple[str, ProductRow]]:
    return [(uid, row) for uid, row in ctx.products if row.category in TOPICS[topic][1]]


def _slots(rng: random.Random, ctx: DocContext, lang: str, topic: str, row: ProductRow, uid: str,
           day: date) -> dict[str, str]:
    slots = make_slots(rng, lang, topic, row, day, country="China" if lang == "zh" else "United States",
                       order_number=f"SO-{day.year}-{rng.randint(1, 8000):06d}", order_day=day - timedelta(days=30),
                       amount=row.price_usd * (7 if lang == "zh" else 1), currency="CNY" if lang == "zh" else "USD")
    concept = ctx.topics[topic]
    label = concept.label_zh if lang == "zh" else concept.label_en
    slots.update(uid=uid, label=label, label_lc=label if lang == "zh" else _label_lc(label), date=day.isoformat())
    return slots


def _example(rng: random.Random, ctx: DocContext, w: dict[str, Any], lang: str, topic: str, product: str,
             published: str) -> str:
    """A case on the same topic and product (else category), closed before publication, as a worked example."""
    category = dict(ctx.products)[product].category
    pool = [c for c in ctx.cases.get((topic, lang), []) if c[1][:10] < published]
    same = [c for c in pool if c[0] == product] or [c for c in pool if dict(ctx.products)[c[0]].category == category]
    if not same:
        return ""
    _, _, desc, resolution = rng.choice(same)
    quote = f"“{desc}”" if lang == "zh" else f'"{desc}"'
    sep = "：" if lang == "zh" else ": "
    return f"{w['h']['example']}\n{w['h']['reported']}{sep}{quote}\n{w['h']['fixed']}{sep}{resolution}"


def _article(rng: random.Random, ctx: DocContext, doc_type: str, lang: str, topic: str, product: str,
             slots: dict[str, str]) -> str:
    w, text = (_ZH if lang == "zh" else _EN), ctx.texts[lang][topic]
    steps = [fill(s, slots) for s in text["steps"]]
    causes = ("" if lang == "zh" else " ").join(fill(c, slots) for c in text["causes"])
    numbered = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, start=1))
    if doc_type == "faq":
        qs = [fill(q, slots) for q in text["questions"]]
        sep = "" if lang == "zh" else " "
        answers = [steps[0] + sep + steps[1], fill(text["causes"][0], slots) + sep + steps[2],
                   fill(text["causes"][-1], slots) + sep + steps[3]]
        labels = ("问：", "答：") if lang == "zh" else ("Q: ", "A: ")
        pairs = [f"{labels[0]}{q}\n{labels[1]}{a}" for q, a in zip(qs, answers, strict=False)]
        return "\n\n".join([fill(w["faq_intro"], slots), *pairs, fill(rng.choice(w["closing"]), slots)])
    paragraphs = [fill(rng.choice(w["intro"]), slots)]
    if doc_type == "troubleshooting-guide":
        paragraphs += [fill(w["before"], slots), f"{w['h']['steps']}\n{numbered}", f"{w['h']['why']}\n{causes}"]
    else:
        bullets = "\n".join(f"- {fill(q, slots)}" for q in text["questions"])
        paragraphs += [f"{w['h']['questions']}\n{bullets}", f"{w['h']['why']}\n{causes}", f"{w['h']['do']}\n{numbered}"]
    example = _example(rng, ctx, w, lang, topic, product, slots["date"])
    if example:
        paragraphs.append(example)
    paragraphs.append(fill(rng.choice(w["closing"]), slots))
    return "\n\n".join(paragraphs)


def _manual(ctx: DocContext, lang: str, row: ProductRow, slots: dict[str, str]) -> str:
    """Overview, setup steps, warranty or licence terms, and where to get help."""
    w = _ZH if lang == "zh" else _EN
    feature = row.feature_zh if lang == "zh" else row.feature_en
    overview = f"{row.name}：{feature}。" if lang == "zh" else f"{row.name}: {feature}."
    install = ctx.texts[lang]["topic-installation"]["steps"]
    key = "licence" if row.category in SOFTWARE else "warranty"
    raw = install[:3]
    if key == "licence":
        raw = [install[0], install[1], *ctx.texts[lang]["topic-license-activation"]["steps"][::2], install[3]]
    terms, heading = w[key], w["h"][key]
    steps = "\n".join(f"{i}. {fill(s, slots)}" for i, s in enumerate(raw, 1))
    return "\n\n".join([f"{w['h']['overview']}\n{overview}", f"{w['h']['setup']}\n{steps}",
                        f"{heading}\n{fill(terms, slots)}", fill(w["closing"][0], slots)])


def _release_notes(rng: random.Random, ctx: DocContext, lang: str, row: ProductRow, topics: list[str],
                   slots: dict[str, str]) -> str:
    w = _ZH if lang == "zh" else _EN
    fixes = []
    fixed_in = {**slots, "version": slots["old_version"]}
    for topic in topics:
        titles = [t for s in scenarios_for(ctx.texts[lang][topic], row.category) for t in s[1].split("||")]
        title = fill(rng.choice([t for t in titles if "{order}" not in t and "{ref}" not in t] or titles), fixed_in)
        keep_case = lang == "zh" or title.startswith(row.name)
        fixes.append(f"- {w['fixed_prefix']}{title if keep_case else _label_lc(title)}")
    improvements = [f"- {fill(i, slots)}" for i in rng.sample(w["improvements"], 2)]
    return "\n\n".join([fill(w["released"], slots), f"{w['h']['fixes']}\n" + "\n".join(fixes),
                        f"{w['h']['improve']}\n" + "\n".join(improvements),
                        f"{w['h']['update']}\n{fill(w['how_update'], slots)}"])


def build_documents(rng: random.Random, ctx: DocContext) -> list[Record]:
    """The 150 document records (DOC-0001 ...), a third in Chinese."""
    docs: list[Record] = []
    leafs = list(TOPICS)
    manual_products = rng.sample([p for p in ctx.products if p[1].category not in _NO_MANUAL], 20)
    note_products = rng.sample([p for p in ctx.products if p[1].category not in _NO_MANUAL], 20)
    for doc_type, count in DOC_PLAN:
        for i in range(count):
            uid = f"DOC-{len(docs) + 1:04d}"
            lang = "zh" if i % 3 == 2 else "en"
            day = date(2023, 1, 15) + timedelta(days=rng.randint(0, 1374))
            w = _ZH if lang == "zh" else _EN
            if doc_type in ("kb-article", "troubleshooting-guide", "faq"):
                topic = leafs[(i + _TOPIC_OFFSET[doc_type]) % len(leafs)]
                product_uid, row = rng.choice(_products_for(ctx, topic))
                topics, slots = [topic], _slots(rng, ctx, lang, topic, row, uid, day)
                text = _article(rng, ctx, doc_type, lang, topic, product_uid, slots)
                author = _author(rng, ctx, topic, lang)
            elif doc_type == "manual":
                product_uid, row = manual_products[i]
                topics, slots = ["topic-installation"], _slots(rng, ctx, lang, "topic-installation", row, uid, day)
                text = _manual(ctx, lang, row, slots)
                owner = next(e for e in ctx.employees if e.uid == ctx.owners[product_uid])
                author = owner if lang in owner.languages else _author(rng, ctx, "topic-installation", lang)
            else:
                product_uid, row = note_products[i]
                fitting = [t for t in _TECHNICAL
                           if row.category in TOPICS[t][1] and scenarios_for(ctx.texts[lang][t], row.category)]
                topics = rng.sample(fitting, min(len(fitting), rng.randint(2, 3)))
                slots = _slots(rng, ctx, lang, topics[0], row, uid, day)
                text = _release_notes(rng, ctx, lang, row, topics, slots)
                author = _author(rng, ctx, topics[0], lang)
            title = fill(rng.choice(w[doc_type]), slots)
            props = {"title": title, "text": text, "docType": doc_type, "language": lang,
                     "publishedAt": day.isoformat()}
            rels = [rel_from("AUTHORED", author.uid, "Employee"), rel_to("ABOUT_PRODUCT", product_uid, "Product")]
            rels += [rel_to("HAS_TOPIC", t, "Topic") for t in topics]
            docs.append(record("Document", uid, props, rels))
    return docs
