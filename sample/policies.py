"""Skylark's own policies: refunds, returns, warranty, privacy, retention, SLAs, escalation, security.

The numbers in here (30-day returns, 10 failed sign-ins, 35-day backups...) are the ones the
ticket resolutions and articles quote, so a policy found by search agrees with the cases it governs.
"""

from __future__ import annotations

from dataclasses import dataclass

HW_CATS = ("cat-printers", "cat-laptops", "cat-networking", "cat-accessories")
SW_CATS = ("cat-software",)
BUSINESS = ("SEG-ENTERPRISE", "SEG-MIDMARKET", "SEG-SMB", "SEG-PUBLIC", "SEG-REGULATED")


@dataclass(frozen=True)
class Regulation:
    """A policy or an industry rule, with what it is about and where it applies.

    `region` is global, intl (everywhere but China), cn, eu, uk, us, us-ca or au; `binds` lists the
    customer industries a rule puts duties on ("*" for every business customer in the region).
    """

    uid: str
    kind: str
    title: str
    text: str
    language: str
    topics: tuple[str, ...]
    region: str = "global"
    categories: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    consumer_only: bool = False
    effective_from: str = ""
    jurisdiction: str = ""
    industry: str = ""
    binds: tuple[str, ...] = ()


# region -> the jurisdiction written on the policy: canonical facet values, as on industry rules
JURISDICTION_OF_REGION = {"global": "Global", "intl": "International (excluding China)", "cn": "中国大陆",
                          "eu": "EU", "uk": "United Kingdom", "us": "United States",
                          "us-ca": "United States (California)", "au": "Australia"}


def _p(uid: str, title: str, text: str, lang: str, topics: tuple[str, ...], effective: str, **kw: object) -> Regulation:
    return Regulation(uid, "Policy", title, text.strip(), lang, topics, effective_from=effective, **kw)  # type: ignore[arg-type]


POLICIES: tuple[Regulation, ...] = (
    _p("POL-001", "Refund Policy", """
Customers may ask for a refund of hardware within 30 days of delivery, and of software that has not been activated within 30 days of purchase. Consumers in the EU and the UK additionally have a 14-day cooling-off period for online purchases; nothing in this policy limits their statutory rights.

Refunds are issued to the original payment method once the returns warehouse has received and inspected the item, normally within 5 business days of receipt. Card issuers and banks usually need a further 3-5 business days to show the credit. Duplicate charges are refunded as soon as Billing has confirmed them with the payment processor.

Items returned damaged, incomplete or with missing accessories may receive a partial refund. Outside the 30-day window Billing may offer store credit at its discretion. Subscriptions follow the Subscription Renewal and Cancellation Policy.""",
       "en", ("topic-refund",), "2024-01-01", region="intl", categories=HW_CATS + SW_CATS),
    _p("POL-002", "退款政策（中国大陆）", """
个人消费者通过官网、微信小程序等线上渠道购买的商品，自签收之日起七日内可申请无理由退货退款，商品应当完好；已激活的软件激活码、已拆封的耗材除外。企业客户按合同约定办理，合同未约定的，签收后30日内可申请退款。

退款在仓库签收退货并质检通过后发起，原路退回至支付账户：微信支付、支付宝一般1-3个工作日到账，银行卡及对公转账3-5个工作日到账。重复扣款经账务核实后优先退回。

退回商品缺少配件、赠品或存在人为损坏的，按实际情况扣减相应金额。超过退款期限的，可由账务团队酌情提供购物抵用金。""",
       "zh", ("topic-refund",), "2024-03-15", region="cn", categories=HW_CATS + SW_CATS),
    _p("POL-003", "Returns and Exchanges Policy", """
Unused hardware in its original packaging can be returned or exchanged within 30 days of delivery. Start the return in the customer portal; we issue an RMA number and a prepaid label, which is valid for 14 days.

Items that arrive damaged, dead on arrival or different from the order must be reported within 7 days of delivery, with photos of the packaging. We ship the replacement first and collect the faulty item at no cost. Exchanges for a different model are charged or credited at the price difference.

Returns are inspected within 5 business days of receipt. Consumable items that have been opened, and software keys that have been activated, cannot be returned unless faulty.""",
       "en", ("topic-returns", "topic-damaged-item"), "2024-01-01", region="intl", categories=HW_CATS + ("cat-printer-supplies",)),
    _p("POL-004", "七天无理由退货及换货规定", """
个人消费者线上购买的商品，自签收次日起七日内可申请无理由退货；商品需保持原包装完好、配件齐全，不影响二次销售。企业客户签收后30日内可申请退换货。

签收后7日内发现商品破损、开箱即坏、错发或漏发的，请拍摄外包装和商品照片并提交工单，我们将先行补发或换新，再安排上门取回，运费由我方承担。因个人原因退货的，退回运费由消费者承担。

换货为其他型号的，按差价多退少补。退货单生成后14日内有效，过期需重新申请。""",
       "zh", ("topic-returns", "topic-damaged-item"), "2024-03-15", region="cn", categories=HW_CATS),
    _p("POL-005", "Standard Hardware Warranty", """
Skylark hardware is covered against defects in materials and workmanship from the invoice date: printers, accessories and consumer laptops for 1 year; WorkBook and FieldBook business laptops for 3 years; NetRidge routers and access points for 2 years; NetRidge switches for a limited lifetime while the model is supported.

Batteries are covered for 1 year; a battery whose full-charge capacity falls below 80% of its design capacity within that period is treated as defective. Consumables, cosmetic wear and damage from drops, liquids or unauthorised repair are not covered; see the CarePack terms for accidental damage cover.

To claim, check the serial number on the support site and open a case with the fault and the diagnostic code. We repair, replace or refund at our option. Consumer law rights in the customer's country apply in addition to this warranty.""",
       "en", ("topic-warranty-claim", "topic-hardware-fault", "topic-battery-power"), "2023-06-01", region="intl",
       categories=HW_CATS),
    _p("POL-006", "硬件产品保修政策", """
本政策依据《部分商品修理更换退货责任规定》制定，保修期自发票开具之日起计算。笔记本电脑整机保修1年，主板、CPU、内存、硬盘、显示屏等主要部件保修2年；打印机、网络设备及配件整机保修1年。

个人消费者自签收之日起7日内出现性能故障，可选择退货、换货或修理；15日内出现性能故障，可选择换货或修理；保修期内修理两次仍不能正常使用的，可凭维修记录换货或退货。电池在保修期内健康度低于80%的，视为性能故障。

人为损坏、进液、私自拆修不在保修范围内。送修设备一般在10个工作日内修复；购买延保服务的客户享受上门维修。维修进度可凭返修单号在官网查询。""",
       "zh", ("topic-warranty-claim", "topic-hardware-fault", "topic-battery-power", "topic-repair-status"), "2023-06-01",
       region="cn", categories=HW_CATS),
    _p("POL-007", "CarePack Extended Warranty Terms", """
CarePacks extend or upgrade the standard warranty of one device, identified by its serial number. A CarePack must be registered to the serial number within 90 days of purchase; until then it does not show in the warranty checker.

CarePack Laptop 3-year Next Business Day provides on-site repair by the next business day after remote diagnosis. CarePack Accidental Damage covers drops and spills for two years, one claim per year. CarePack Printer On-site covers parts, labour and travel for three years.

If a device has to be repaired twice for the same fault within the CarePack term, we replace it. A loan device is provided where the repair is expected to take longer than 5 business days.""",
       "en", ("topic-warranty-claim", "topic-repair-status"), "2023-06-01", categories=("cat-extended-warranty",)),
    _p("POL-008", "Software Licence Terms: Activation, Transfer and Refunds", """
Licence keys are tied to a product edition and a sales region (global or China) and activate only that edition. A perpetual licence may be active on one device at a time; it can be moved to a new device by deactivating it on the old one, or by asking support to release the activation, at most once every 90 days.

Subscription seats belong to named users. Administrators reassign seats from people who have left in the admin console. Usage above the purchased seat count is reconciled in a quarterly true-up, prorated to the renewal date.

Unactivated perpetual licences can be refunded within 30 days of purchase. Transfers of licences to another legal entity, including subsidiaries, need a licence transfer agreement from the account manager and may be subject to export control.""",
       "en", ("topic-license-activation", "topic-license-transfer"), "2024-01-01", categories=SW_CATS),
    _p("POL-009", "Subscription Renewal and Cancellation Policy", """
Subscriptions and support plans renew automatically at the end of each term at the then-current price. We send renewal reminders to the billing contact 30 days and 7 days before the renewal date; customers are responsible for keeping that contact up to date.

Auto-renewal can be turned off in the customer portal until 24 hours before renewal. An annual renewal can be cancelled for a full refund within 14 days of the renewal date if the service has not been used heavily since; monthly renewals are not refunded.

Seat increases take effect at once and are prorated to the end of the term; decreases take effect at the next renewal. Price changes are announced at least 30 days in advance.""",
       "en", ("topic-subscription",), "2024-01-01", region="intl", categories=("cat-software", "cat-services")),
    _p("POL-010", "订阅自动续费与取消规则", """
订阅类软件和支持服务在到期时按当期价格自动续费。我们会在续费日前30天和7天向账单联系人发送提醒（邮件及微信服务通知），请及时更新联系人信息。

续费日前24小时之前，可在客户中心“我的订阅”中关闭自动续费。年付订阅自动续费后14日内申请取消的，可全额退款；月付订阅续费后不予退款。

增加账号数量立即生效，按剩余天数折算费用；减少账号数量在下个续费周期生效。价格调整至少提前30天公告。""",
       "zh", ("topic-subscription",), "2024-03-15", region="cn", categories=("cat-software", "cat-services")),
    _p("POL-011", "Data Retention Policy", """
Customer content in our cloud services is kept for the duration of the contract. After cancellation the tenant is read-only for 30 days so that customers can export their data; then primary data is deleted, and backups are overwritten within 35 days. On request we delete earlier and issue a deletion certificate.

Some records are kept for fixed periods for legal or security reasons: invoices and accounting records as tax law requires (in mainland China under the accounting archives rules), security and audit logs for 12 months (at least 6 months for services in mainland China), and support case records for 3 years after closure.

Personal data in support cases is minimised: attachments with personal data are deleted 90 days after the case is closed.""",
       "en", ("topic-data-deletion", "topic-gdpr-data-export"), "2024-05-01", categories=SW_CATS),
    _p("POL-012", "Customer Privacy Notice", """
Skylark Systems processes personal data of customers' users as a processor under a data processing agreement, and personal data of its own customers' contacts as a controller for sales, support and billing.

Individuals can ask for access to their data, a copy in a portable format, correction or erasure. We answer within one month. Where we act as processor we forward requests to the customer and give its administrators tools to export and delete data. Transfers outside the UK and the EEA rely on adequacy decisions or standard contractual clauses.

Our data protection officer can be reached at privacy@skylark.example. Individuals may also complain to their supervisory authority, such as the Data Protection Commission in Ireland or the ICO in the UK.""",
       "en", ("topic-gdpr-data-export", "topic-data-deletion"), "2024-05-01", region="intl", categories=SW_CATS),
    _p("POL-013", "个人信息处理规则", """
云雀系统依据《中华人民共和国个人信息保护法》处理个人信息。中国区云服务的数据存储在境内数据中心，默认不向境外提供；确需出境的，我们将告知境外接收方名称、联系方式、处理目的和方式，取得个人的单独同意，并依法通过安全评估、认证或订立标准合同。

个人可以向我们查阅、复制、更正、删除其个人信息，或撤回同意；我们在收到请求后15个工作日内答复。企业客户作为个人信息处理者时，我们作为受托方协助其响应个人请求。

处理人脸、健康、金融账户、行踪轨迹等敏感个人信息前，应当单独取得同意。个人信息保护负责人联系方式：privacy-cn@skylark.example。""",
       "zh", ("topic-pipl", "topic-data-deletion"), "2024-05-01", region="cn", categories=SW_CATS),
    _p("POL-014", "SkyCare Basic Service Level Agreement", """
SkyCare Basic includes support by e-mail, web portal and chat during business hours (Monday to Friday, 09:00-17:00 in the customer's time zone, excluding public holidays).

Target first response: next business day for all priorities. Cases are handled by Technical Support L1 and escalated to L2 when needed. Remote sessions are available at the agent's discretion.

There are no service credits under SkyCare Basic. Customers who need phone support or faster responses can upgrade to SkyCare Business at any time; the remaining term is credited.""",
       "en", ("topic-technical",), "2023-01-01", products=("SC-BASIC",), segments=("SEG-SMB", "SEG-CONSUMER")),
    _p("POL-015", "SkyCare Business Service Level Agreement", """
SkyCare Business adds phone support 8x5 and a shared case portal for the customer's IT team.

Target first response times: urgent 4 business hours, high 8 business hours, medium next business day, low 2 business days. Urgent means a service or a fleet of devices is down with no workaround; high means a major function is impaired for many users.

If we miss a response target more than twice in a quarter, the customer receives a service credit of 5% of the annual plan fee per missed target, up to 25%.""",
       "en", ("topic-technical",), "2023-01-01", products=("SC-BIZ",), segments=("SEG-SMB", "SEG-MIDMARKET")),
    _p("POL-016", "SkyCare Premier Service Level Agreement", """
SkyCare Premier provides 24x7 support for urgent cases, a named technical account manager and quarterly service reviews.

Target first response times: urgent 30 minutes (24x7), high 2 hours, medium 8 business hours, low next business day. Urgent cases are worked continuously until a workaround is in place; the account manager is informed of every urgent case.

Service credits: 10% of the monthly plan fee for each missed urgent response target, up to 50% per month. Premier customers may request on-site engineers for hardware faults and priority access to replacement stock.""",
       "en", ("topic-technical", "topic-security-incident"), "2023-01-01", products=("SC-PREM",),
       segments=("SEG-ENTERPRISE", "SEG-REGULATED")),
    _p("POL-017", "企业尊享支持服务等级协议", """
企业尊享支持（SkyCare Premier）提供7x24小时紧急工单支持、专属技术客户经理和季度服务回顾，支持电话、企业微信和现场服务。

首次响应时限：紧急30分钟（全天候），高优先级2小时，中优先级8个工作小时，低优先级下一个工作日。紧急工单持续处理直至提供临时解决方案，客户经理同步知晓。

未达到紧急工单响应时限的，每次按月度服务费的10%给予服务抵扣，每月最高50%。硬件故障可申请工程师上门，并优先调拨备机。""",
       "zh", ("topic-technical", "topic-security-incident"), "2023-01-01", region="cn", products=("SC-PREM",),
       segments=("SEG-ENTERPRISE", "SEG-REGULATED")),
    _p("POL-018", "Case Escalation Policy", """
Cases start with Technical Support L1 or the owning team (Billing, Logistics, Networking). L1 escalates to L2 when a case needs log analysis, a fix from engineering or on-site work, and always when an urgent case has no workaround after 2 hours.

Security incidents and personal-data requests go straight to Security & Compliance. Any case open longer than 10 business days, any repeat fault and any customer request for escalation is reviewed by the team lead. For enterprise customers the account manager is informed of every high or urgent case.

When escalating, the agent writes a summary of symptoms, steps already taken and the customer's impact, so the customer never has to repeat it.""",
       "en", ("topic-technical", "topic-security-incident"), "2023-01-01", segments=BUSINESS + ("SEG-CONSUMER",)),
    _p("POL-019", "Security Incident Response Policy", """
Customers report suspected incidents to security@skylark.example or by an urgent case; Security & Compliance acknowledges within 1 hour, around the clock.

For an incident in our services that affects customer data, we notify affected customers without undue delay and in any case within 24 hours of confirming it, with what we know, so that they can meet their own deadlines (72 hours under the GDPR, and the immediate notification required by China's PIPL).

For incidents on customer devices protected by SkyShield, we help to isolate endpoints, restore files, identify the entry point and reset exposed credentials. Evidence (logs, samples) is kept for 12 months.""",
       "en", ("topic-suspicious-activity", "topic-malware"), "2024-02-01", categories=("cat-security-software", "cat-software")),
    _p("POL-020", "Shipping and Delivery Policy", """
In-stock items ship within 1 business day; standard delivery takes 3-5 business days and express delivery 1-2 business days. Backordered items hold the order unless the customer chose partial shipment.

If tracking has not changed for 5 business days, we open a trace with the courier; if the parcel is confirmed lost we reship at no cost and refund any express fee. Deliveries marked as delivered but not received are investigated with the courier before a replacement is sent.

Damaged deliveries must be reported within 7 days with photos; see the Returns and Exchanges Policy.""",
       "en", ("topic-shipping-delay", "topic-damaged-item"), "2024-01-01", region="intl", categories=HW_CATS),
    _p("POL-021", "物流配送及破损处理规定", """
现货商品在下单后1个工作日内发出，默认使用顺丰速运或京东物流，一般2-4天送达，偏远地区适当延长。缺货商品会整单等待，客户可选择分批发货。

物流信息连续5个工作日无更新的，我们主动向快递公司发起查件；确认丢件的免费补发并退还加急运费。显示签收但本人未收到的，先核实代收点、快递柜和前台，再由我们联系快递处理。

签收后7日内发现商品破损、错发、漏发的，请拍照提交工单，我们先补发再回收，不需要客户垫付运费。""",
       "zh", ("topic-shipping-delay", "topic-damaged-item"), "2024-03-15", region="cn", categories=HW_CATS),
    _p("POL-022", "Invoicing and Payment Terms for Business Customers", """
Approved business accounts are invoiced on shipment with payment due in 30 days; other customers pay at order. Invoices carry the legal name, address and VAT or tax number from the billing profile at the time of shipment, and the purchase order number when it was given at checkout.

Invoice errors are corrected by cancelling the invoice and issuing a new one, or by a credit note; disputes should be raised within 14 days of the invoice date. Card payments are authenticated with 3-D Secure. Overdue accounts may be put on hold and cloud services suspended after 30 days' notice.

Payment references must quote the invoice number so that bank transfers can be matched.""",
       "en", ("topic-invoice", "topic-payment-failure"), "2024-01-01", region="intl", segments=BUSINESS),
    _p("POL-023", "增值税发票开具规定", """
我们为中国大陆客户开具增值税电子普通发票或增值税专用发票（数电票）。个人客户默认开具电子普通发票，下单后在客户中心下载；企业客户如需专用发票，请在下单时填写完整的名称、纳税人识别号、地址电话和开户行账号。

发票在订单发货后开具，发票信息以发货时的开票资料为准。开票信息有误的，可在开票后提交工单申请红冲重开，跨月红冲需在收到发票后30日内提出。

对公转账请在备注中注明订单号或发票号，以便财务及时核对入账。""",
       "zh", ("topic-invoice", "topic-payment-failure"), "2024-03-15", region="cn", segments=BUSINESS + ("SEG-CONSUMER",)),
    _p("POL-024", "Account Security and Identity Verification Policy", """
Ten failed sign-ins in a row lock an account for 30 minutes. Repeated locks, suspended accounts and lost second factors are resolved only after identity verification: by another administrator of the same organisation, or by support calling back the account owner on the number on file.

Two-factor authentication is mandatory for administrators and recommended for all users; organisations can enforce it for everyone. Password reset links are valid for 30 minutes. Support will never ask for a password or a one-time code.

Single sign-on configurations must keep at least one break-glass administrator who can sign in without SSO.""",
       "en", ("topic-login-password", "topic-2fa", "topic-account-locked", "topic-sso"), "2024-02-01", categories=SW_CATS),
    _p("POL-025", "API Usage and Rate Limit Policy", """
Each tenant may make 600 API requests per minute with bursts of 100; above that the API returns HTTP 429 with a Retry-After header, and clients must wait before retrying. Temporary increases can be agreed for migrations.

Access tokens are valid for 1 hour. Webhooks are retried with exponential back-off for 24 hours; an endpoint that keeps failing is disabled and the tenant's admins are e-mailed. Missed events can be replayed from the developer console for 7 days.

API versions are supported for at least 12 months after a successor is released; retirements are announced in the changelog and by e-mail.""",
       "en", ("topic-api-errors",), "2024-02-01", categories=("cat-cloud-storage", "cat-office-software", "cat-security-software")),
    _p("POL-026", "账户安全与身份核验规定", """
连续10次登录失败，账号将被锁定30分钟。反复锁定、账号停用或丢失二次验证设备的，须经身份核验后处理：由同一企业的其他管理员操作，或由客服回拨账户所有者的预留电话核实。

管理员账号必须开启二次验证，建议全部用户开启；企业可设置为全员强制。重置密码链接30分钟内有效。客服人员不会索要您的密码或验证码。

配置单点登录（企业微信、钉钉、飞书等）的企业，应保留至少一个不经单点登录即可登录的应急管理员账号。""",
       "zh", ("topic-login-password", "topic-2fa", "topic-account-locked", "topic-sso"), "2024-03-15", region="cn",
       categories=SW_CATS),
)
