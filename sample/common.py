"""Shared pieces of the sample generator: record builders, date and money formats, template slots.

Templates are filled from one slot dictionary per ticket or article; the values depend on the
language, the product, the order and the date (an OS version is only mentioned once released),
so that the same sentence reads differently and plausibly each time.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, date, datetime
from typing import Any

from kcrm.sample.catalog import CATEGORY_NOUNS, DEVICES, HARDWARE, SERVICES, SOFTWARE, ProductRow

Record = dict[str, Any]

TEXT_KEYS = ("scenarios", "details", "tried", "causes", "steps", "questions")
# scenario kind -> the product categories it may be told about ("" = any)
SCENARIO_KINDS: dict[str, tuple[str, ...] | None] = {
    "": None, "hw": HARDWARE, "dev": DEVICES, "sw": SOFTWARE + SERVICES, "sup": ("cat-printer-supplies",),
    "net": ("cat-routers", "cat-access-points"), "wcl": ("cat-laptops", "cat-laser-printers", "cat-inkjet-printers"),
    "lan": ("cat-laser-printers", "cat-inkjet-printers", "cat-routers", "cat-switches", "cat-access-points"),
    "lap": ("cat-laptops",), "prn": ("cat-laser-printers", "cat-inkjet-printers"),
    "care": ("cat-laptops", "cat-laser-printers", "cat-inkjet-printers"), "bat": ("cat-laptops", "cat-headsets"),
    "port": ("cat-switches", "cat-routers", "cat-docks-hubs"),
    "fan": ("cat-laptops", "cat-switches", "cat-routers", "cat-laser-printers"),
    "keys": ("cat-laptops", "cat-headsets", "cat-laser-printers", "cat-inkjet-printers"),
}


def scenarios_for(text: dict[str, list[Any]], category: str) -> list[tuple[str, str, str, str]]:
    """The scenarios of a topic that make sense for a product of `category`."""
    fitting = []
    for scenario in text["scenarios"]:
        allowed = SCENARIO_KINDS[scenario[0]]
        if allowed is None or category in allowed:
            fitting.append(scenario)
    return fitting


def pick_title(rng: random.Random, title: str) -> str:
    """One of the "||"-separated variants of a scenario title."""
    return rng.choice(title.split("||"))


def record(rtype: str, uid: str, props: dict[str, Any], rels: list[dict[str, Any]] | None = None) -> Record:
    """One line of the record files, in the loader's exact shape."""
    return {"type": rtype, "uid": uid, "props": props, "rels": rels or []}


def rel_to(rtype: str, uid: str, to_type: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    """An outgoing relationship written on the record that starts it."""
    rel: dict[str, Any] = {"type": rtype, "to": uid, "to_type": to_type}
    if props:
        rel["props"] = props
    return rel


def rel_from(rtype: str, uid: str, from_type: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    """An incoming relationship written on the record it ends at."""
    rel: dict[str, Any] = {"type": rtype, "from": uid, "from_type": from_type}
    if props:
        rel["props"] = props
    return rel


def iso(moment: datetime) -> str:
    """ISO 8601 date-time in UTC with an explicit offset."""
    return moment.replace(tzinfo=UTC, microsecond=0).isoformat()


def human_date(day: date, lang: str) -> str:
    """A date the way a person writes it in a ticket."""
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {day:%B %Y}"


def short_date(day: date, lang: str) -> str:
    """A deadline without the year."""
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {day:%B}"


_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "SGD": "S$", "CNY": "¥"}


def money(amount: float, currency: str, lang: str) -> str:
    """An amount with its currency as customers write it."""
    if lang == "zh":
        return f"{amount:,.0f}元" if currency == "CNY" and amount == int(amount) else f"{amount:,.2f}{currency}"
    return f"{_SYMBOLS.get(currency, currency + ' ')}{amount:,.2f}"


# (English, Chinese) error texts per topic; codes stay the same in both languages.
TOPIC_ERRORS: dict[str, list[tuple[str, str]]] = {
    "topic-refund": [("REF-409: a refund request already exists", "REF-409：已存在退款申请"),
                     ("ORD-500: unexpected error", "ORD-500：系统繁忙，请稍后再试"),
                     ("REF-403: order not eligible for online refund", "REF-403：该订单不支持在线退款")],
    "topic-invoice": [("INV-404: document not found", "INV-404：发票不存在"),
                      ("INV-503: invoicing service unavailable", "INV-503：开票服务暂不可用")],
    "topic-payment-failure": [("Card declined (05 Do not honour)", "银行卡被拒（05 不予承兑）"),
                              ("3DS authentication failed", "3DS验证失败"), ("PAY-402: payment not completed", "PAY-402：支付未完成"),
                              ("Insufficient funds (51)", "余额不足（51）"), ("PAY-408: payment timed out", "PAY-408：支付超时")],
    "topic-subscription": [("SUB-422: plan change not allowed during renewal", "SUB-422：续费处理中，暂不能变更套餐"),
                           ("SUB-500: could not update subscription", "SUB-500：订阅更新失败")],
    "topic-returns": [("RMA-410: return window expired", "RMA-410：已超过退货期限"),
                      ("RMA-500: could not create return", "RMA-500：退货单创建失败")],
    "topic-login-password": [("AUTH-401 Invalid username or password", "AUTH-401 用户名或密码错误"),
                             ("AUTH-440 Session expired", "AUTH-440 会话已过期"),
                             ("AUTH-403 Sign-in blocked by policy", "AUTH-403 登录被安全策略拦截")],
    "topic-2fa": [("MFA-110 Invalid verification code", "MFA-110 验证码无效"), ("OTP-403 Code expired", "OTP-403 验证码已过期")],
    "topic-account-locked": [("ACC-423 Account locked", "ACC-423 账号已锁定"), ("ACC-403 Account suspended", "ACC-403 账号已停用")],
    "topic-installation": [("Error 1603", "错误1603"), ("0x80070643", "0x80070643"),
                           ("INST-204 Package signature invalid", "INST-204 安装包签名无效"), ("Error 1935", "错误1935")],
    "topic-driver-update": [("0x00000709", "0x00000709"), ("0x0000011b", "0x0000011b"),
                            ("0x80070005 Access denied", "0x80070005 拒绝访问"), ("0x800f0922", "0x800f0922"),
                            ("PRN-DRV-1057", "PRN-DRV-1057"), ("Error 1603", "错误1603")],
    "topic-wifi": [("Reason 15: 4-way handshake timeout", "原因码15：四次握手超时"),
                   ("DHCP timeout", "DHCP超时，无法获取IP地址"), ("Authentication failed", "认证失败")],
    "topic-vpn": [("NO_PROPOSAL_CHOSEN", "NO_PROPOSAL_CHOSEN"), ("Error 809", "错误809"),
                  ("TLS handshake failed", "TLS握手失败"), ("AUTHENTICATION_FAILED", "AUTHENTICATION_FAILED")],
    "topic-data-sync": [("SYNC-409 Conflict", "SYNC-409 文件冲突"), ("SYNC-507 Storage quota exceeded", "SYNC-507 存储空间不足"),
                        ("SYNC-413 File too large", "SYNC-413 文件过大")],
    "topic-printing": [("E-13", "E-13"), ("J-21", "J-21"), ("13.A2.D2", "13.A2.D2"), ("E-05", "E-05")],
    "topic-hardware-fault": [("POST error 3-1", "开机自检错误3-1"), ("HW-207", "HW-207"), ("Boot code 2-4-1", "启动代码2-4-1"),
                             ("Error 0x1F4", "错误0x1F4")],
    "topic-warranty-claim": [("WTY-400 Serial number not recognised", "WTY-400 序列号无法识别"),
                             ("WTY-503 Service unavailable", "WTY-503 服务暂不可用")],
    "topic-gdpr-data-export": [("EXP-504 Export timed out", "EXP-504 导出超时"), ("EXP-413 Export too large", "EXP-413 导出数据过大")],
    "topic-malware": [("Ransom.Win32.LockCrypt.A", "Ransom.Win32.LockCrypt.A"), ("Trojan.GenericKD.4721", "Trojan.GenericKD.4721"),
                      ("PUA.CoinMiner", "PUA.CoinMiner"), ("HEUR:Trojan.Win32.Agent", "HEUR:Trojan.Win32.Agent")],
    "topic-api-errors": [("HTTP 401 invalid_token", "HTTP 401 invalid_token"), ("HTTP 403 insufficient_scope", "HTTP 403 insufficient_scope"),
                         ("HTTP 504 Gateway Timeout", "HTTP 504 Gateway Timeout"), ("HTTP 400 invalid_grant", "HTTP 400 invalid_grant")],
    "topic-sso": [("SAML signature validation failed", "SAML签名校验失败"), ("InResponseTo mismatch", "InResponseTo不匹配"),
                  ("invalid_client", "invalid_client"), ("User not assigned to application", "用户未分配到该应用")],
    "topic-license-activation": [("LIC-1007 Key already in use", "LIC-1007 激活码已被使用"),
                                 ("LIC-2010 Key expired", "LIC-2010 激活码已过期"),
                                 ("LIC-0403 Region mismatch", "LIC-0403 区域不匹配"), ("LIC-0001 Invalid key", "LIC-0001 激活码无效")],
}
_GENERIC_ERRORS = [("ERR-500 Unexpected error", "ERR-500 系统异常"), ("ERR-503 Service unavailable", "ERR-503 服务暂不可用")]

# (name, release date, languages of the customers who mention it); a ticket only names systems already released
_OS_RELEASES = [("Windows 10 22H2", date(2022, 10, 18), "en zh"), ("Windows 11 22H2", date(2022, 9, 20), "en zh"),
                ("Windows 11 23H2", date(2023, 10, 31), "en zh"), ("Windows 11 24H2", date(2024, 10, 1), "en zh"),
                ("Windows 11 25H2", date(2025, 9, 30), "en zh"), ("macOS Ventura 13", date(2022, 10, 24), "en"),
                ("macOS Sonoma 14", date(2023, 9, 26), "en zh"), ("macOS Sequoia 15", date(2024, 9, 16), "en zh"),
                ("macOS Tahoe 26", date(2025, 9, 15), "en"), ("Ubuntu 22.04 LTS", date(2022, 4, 21), "en"),
                ("Ubuntu 24.04 LTS", date(2024, 4, 25), "en"), ("统信UOS 20", date(2020, 1, 14), "zh"),
                ("银河麒麟V10", date(2020, 8, 1), "zh")]

_POOLS: dict[str, dict[str, list[str]]] = {
    "en": {
        "browser": ["Chrome 126", "Edge 125", "Safari 17", "Firefox 128", "Chrome 131"],
        "idp": ["Microsoft Entra ID", "Okta", "Google Workspace", "Ping Identity"],
        "room": ["second-floor meeting rooms", "warehouse", "reception area", "training room", "east wing",
                 "basement workshop", "staff canteen"],
        "branch": ["Leeds", "Cork", "Austin", "Perth", "Toronto", "Auckland", "Denver", "Bristol", "Galway"],
        "abroad": ["São Paulo, Brazil", "Lagos, Nigeria", "Bucharest, Romania", "Hanoi, Vietnam", "Jakarta, Indonesia"],
        "dept": ["finance", "sales", "design", "engineering", "front desk", "warehouse", "HR", "customer service"],
        "paymethod": ["Visa card", "Mastercard", "American Express card", "PayPal", "Apple Pay"],
        "paymethod_business": ["bank transfer", "corporate Visa card", "corporate Mastercard", "bank transfer"],
        "carrier_default": ["DHL Express", "FedEx"],
    },
    "zh": {
        "browser": ["Chrome 126", "Edge 125", "360安全浏览器", "QQ浏览器", "Chrome 131"],
        "idp": ["企业微信", "钉钉", "飞书", "Microsoft Entra ID"],
        "room": ["三楼会议室", "仓库", "前台区域", "培训教室", "东侧办公区", "地下车间", "员工食堂"],
        "branch": ["苏州", "无锡", "佛山", "东莞", "宁波", "合肥", "郑州", "昆明"],
        "abroad": ["美国弗吉尼亚", "荷兰阿姆斯特丹", "巴西圣保罗", "越南河内", "印度尼西亚雅加达"],
        "dept": ["财务部", "销售部", "设计部", "研发部", "前台", "仓储部", "人事部", "客服部"],
        "paymethod": ["微信支付", "支付宝", "银联信用卡"],
        "paymethod_business": ["对公转账", "对公转账", "企业支付宝"],
        "carrier_default": ["顺丰速运", "京东物流", "中通快递", "EMS"],
    },
}
_CARRIERS = {"United States": ["UPS", "FedEx"], "United Kingdom": ["Royal Mail", "DPD"], "Ireland": ["An Post", "DPD"],
             "Australia": ["Australia Post", "StarTrack"], "Canada": ["Canada Post", "Purolator"],
             "New Zealand": ["NZ Post"], "Singapore": ["SingPost", "DHL Express"]}
_REF_PREFIX = {"topic-refund": "RF", "topic-invoice": "Q", "topic-returns": "RMA", "topic-warranty-claim": "RMA",
               "topic-repair-status": "RMA", "topic-gdpr-data-export": "DSR", "topic-data-deletion": "DSR",
               "topic-pipl": "DSR", "topic-damaged-item": "RMA"}


_POSTS = {"Royal Mail": "GB", "An Post": "IE", "NZ Post": "NZ", "SingPost": "SG", "EMS": "CN", "Australia Post": "AU",
          "Canada Post": "CA"}


def _tracking(carrier: str, rng: random.Random) -> str:
    digits = "".join(str(rng.randint(0, 9)) for _ in range(12))
    if carrier == "UPS":
        return f"1Z{rng.randint(100, 999)}E{digits[:3]}{digits[3:]}"
    if carrier in _POSTS:
        return f"{rng.choice('ELRC')}{rng.choice('ABEJX')}{digits[:9]}{_POSTS[carrier]}"
    if carrier == "顺丰速运":
        return f"SF{digits}{rng.randint(0, 9)}"
    if carrier == "京东物流":
        return f"JD{digits}{rng.randint(10, 99)}"
    return digits


def _os_name(rng: random.Random, lang: str, when: date) -> str:
    released = [(name, day) for name, day, langs in _OS_RELEASES if day <= when and lang in langs.split()]
    released.sort(key=lambda item: item[1])
    weights = [1.0 + 3.0 * (i >= len(released) - 3) for i in range(len(released))]
    return rng.choices([name for name, _ in released], weights)[0]


def _version(rng: random.Random) -> tuple[str, str]:
    major, minor = rng.randint(2, 6), rng.randint(0, 12)
    new = f"{major}.{minor}.{rng.randint(1, 40)}"
    old = f"{major}.{max(0, minor - rng.randint(1, 3))}.{rng.randint(0, 30)}"
    return new, old


def make_slots(rng: random.Random, lang: str, topic: str, product: ProductRow, when: date, *,
               country: str, order_number: str, order_day: date, amount: float, currency: str,
               business: bool = False) -> dict[str, str]:
    """Every value a template may ask for, drawn for one ticket or article."""
    pools = _POOLS[lang]
    err_en, err_zh = rng.choice(TOPIC_ERRORS.get(topic, _GENERIC_ERRORS))
    carrier = rng.choice(_CARRIERS.get(country, pools["carrier_default"]) if lang == "en" else pools["carrier_default"])
    version, old_version = _version(rng)
    seats = rng.choice([10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 250])
    deadline = date.fromordinal(when.toordinal() + rng.randint(5, 30))
    slots = {
        "product": product.name, "model": product.model,
        "kind": CATEGORY_NOUNS[product.category][1 if lang == "zh" else 0],
        "order": order_number, "order_date": human_date(order_day, lang), "amount": money(amount, currency, lang),
        "invoice": f"INV-{order_day.year}-{rng.randint(1000, 99999):06d}", "carrier": carrier,
        "tracking": _tracking(carrier, rng), "err": err_zh if lang == "zh" else err_en, "os": _os_name(rng, lang, when),
        "version": version, "old_version": old_version, "ip": f"{rng.choice(['203.0.113', '198.51.100', '192.0.2'])}.{rng.randint(2, 254)}",
        "days": str(rng.randint(3, 21)), "n": str(rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 60])),
        "hours": str(rng.randint(1, 5)), "pages": f"{rng.randint(12, 180) * 1000:,}" if lang == "en" else str(rng.randint(12, 180) * 1000),
        "percent": str(rng.randint(12, 65)), "seats": str(seats), "seats_new": str(seats + rng.choice([5, 10, 20, 30, 50, 80])),
        "ref": f"{_REF_PREFIX.get(topic, 'REF')}-{when.year}-{rng.randint(100, 99999):05d}",
        "deadline": short_date(deadline, lang),
    }
    for key in ("browser", "idp", "room", "branch", "abroad", "dept"):
        slots[key] = rng.choice(pools[key])
    slots["paymethod"] = rng.choice(pools["paymethod_business" if business else "paymethod"])
    return slots


def slot_names(template: str) -> set[str]:
    """The slots a template asks for."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def fill(template: str, slots: dict[str, str]) -> str:
    """Fill a template; a missing slot is a bug in the templates and raises KeyError."""
    return template.format_map(slots)


GENERIC_EN = {
    "greeting": ["Hi team,", "Hello,", "Hi,", "Good morning,", "Dear Skylark support,"],
    "tried": ["I already tried again later, same result.", "We followed the steps in your online help; nothing changed.",
              "Our IT team went through the basic checks first.",
              "I searched your knowledge base but could not find this error.", "A colleague has the same problem."],
    "impact_high": ["This affects {n} people in our {dept} team.", "We need this fixed before {deadline}.",
                    "It is urgent: our {dept} team is blocked.", "Please treat this as a priority."],
    "impact_low": ["Not urgent, but it is annoying.", "Please call me back if you need more details.",
                   "Happy to do a screen share if that helps.", "Thanks in advance."],
    "closing": ["Customer confirmed the fix; closing.", "No reply from the customer after 5 working days; closed per follow-up policy.",
                "Updated the related knowledge-base article.", "Customer thanked us for the quick help.",
                "Logged the root cause for the product team."],
}
GENERIC_ZH = {
    "greeting": ["你好，", "您好，", "客服你好，", "你们好，"],
    "tried": ["隔了一段时间再试，还是一样。", "按照官网帮助文档操作了一遍，没有用。", "我们IT先做了基本排查，没发现问题。",
              "在知识库里搜了这个问题，没找到解决办法。", "另一个同事也遇到同样的问题。"],
    "impact_high": ["影响到{dept}{n}位同事的正常工作。", "请在{deadline}之前解决，比较急。", "目前{dept}的工作基本停了，麻烦尽快处理。",
                    "麻烦优先处理，谢谢！"],
    "impact_low": ["不算特别急，但是挺影响使用的。", "需要更多信息可以直接打我电话。", "可以远程协助的话更好。", "辛苦了，谢谢。"],
    "closing": ["客户确认问题已解决，关闭工单。", "5个工作日内客户未回复，按流程关闭。", "已将处理方法补充到知识库。",
                "客户对处理结果表示满意。", "已将根本原因反馈给产品团队。"],
}
