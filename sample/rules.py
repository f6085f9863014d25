"""Industry rules that bind Skylark or its customers: GDPR, PIPL, PCI DSS, consumer law, WEEE, export control.

Summaries written for support agents, not legal advice; each names its jurisdiction and the
customer industries it binds, which is how customers and cases get their GOVERNED_BY links.
"""

from __future__ import annotations

from kcrm.sample.policies import BUSINESS, HW_CATS, SW_CATS, Regulation


def _r(uid: str, title: str, text: str, lang: str, topics: tuple[str, ...], jurisdiction: str, industry: str,
       **kw: object) -> Regulation:
    return Regulation(uid, "IndustryRule", title, text.strip(), lang, topics, jurisdiction=jurisdiction,
                      industry=industry, **kw)


_ALL_SEGMENTS = BUSINESS + ("SEG-CONSUMER",)
_PAYMENTS = ("Retail", "Hospitality", "Banking")

RULES: tuple[Regulation, ...] = (
    _r("RULE-001", "GDPR Article 15: right of access by the data subject", """
A data subject has the right to confirmation whether personal data about them is processed and, if so, to access it together with the purposes, the categories of data, the recipients, the retention period, the source and the existence of automated decision-making. The controller provides a copy free of charge; further copies may carry a reasonable fee.

Under Article 12(3) the controller answers without undue delay and at the latest within one month of receipt, extendable by two further months for complex or numerous requests, with the data subject told of the extension within the first month. The identity of the requester may be verified first.

Processors such as cloud providers must help the controller answer (Article 28(3)(e)).""",
       "en", ("topic-gdpr-data-export",), "EU", "All", region="eu", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-002", "GDPR Article 17: right to erasure ('right to be forgotten')", """
A data subject can obtain erasure of their personal data without undue delay where the data is no longer necessary for its purpose, consent is withdrawn and there is no other legal ground, the person objects and there are no overriding grounds, the data was processed unlawfully, or erasure is required by law.

Erasure does not apply where processing is necessary for compliance with a legal obligation (for example keeping invoices), for archiving or research in the public interest, or for legal claims. Under Article 19 the controller informs each recipient of the data about the erasure unless this is impossible or disproportionate.

Requests are answered within one month (Article 12(3)).""",
       "en", ("topic-data-deletion",), "EU", "All", region="eu", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-003", "GDPR Article 20: right to data portability", """
Where processing is based on consent or on a contract and is carried out by automated means, the data subject has the right to receive the personal data they provided in a structured, commonly used and machine-readable format, and to have it transmitted directly to another controller where technically feasible.

Portability covers data the person actively provided and data observed from their use of the service, but not data inferred or derived by the controller. It must not adversely affect the rights and freedoms of others, for example other people's data in a shared folder.""",
       "en", ("topic-gdpr-data-export",), "EU", "All", region="eu", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-004", "GDPR Article 28: obligations of processors", """
A controller may use only processors that give sufficient guarantees, under a contract that sets out the subject matter, duration, nature and purpose of processing. The processor acts only on documented instructions, ensures confidentiality of its staff, implements appropriate security (Article 32), and engages sub-processors only with the controller's authorisation.

The processor assists the controller with data subjects' requests and with breach notification and impact assessments, deletes or returns all personal data at the end of the service, and makes available the information needed to demonstrate compliance, including audits.""",
       "en", ("topic-gdpr-data-export", "topic-data-deletion"), "EU", "All", region="eu", binds=("*",),
       segments=BUSINESS, categories=SW_CATS),
    _r("RULE-005", "GDPR Articles 33 and 34: notification of a personal data breach", """
In the case of a personal data breach, the controller notifies the competent supervisory authority without undue delay and, where feasible, not later than 72 hours after becoming aware of it, unless the breach is unlikely to result in a risk to people's rights and freedoms. A processor notifies the controller without undue delay after becoming aware of a breach.

The notification describes the nature of the breach, the categories and approximate number of people and records concerned, the likely consequences and the measures taken. Where the breach is likely to result in a high risk, the controller also informs the affected people without undue delay (Article 34). All breaches are documented.""",
       "en", ("topic-suspicious-activity",), "EU", "All", region="eu", binds=("*",), segments=BUSINESS,
       categories=("cat-software", "cat-routers")),
    _r("RULE-006", "UK GDPR and Data Protection Act 2018", """
After Brexit the GDPR continues in UK law as the UK GDPR, supplemented by the Data Protection Act 2018 and supervised by the Information Commissioner's Office (ICO). The rights of access, erasure and portability and the one-month deadline for answering requests are the same as under the EU GDPR.

Personal data breaches that are likely to result in a risk to individuals are reported to the ICO within 72 hours of becoming aware. Transfers from the UK to other countries need adequacy regulations, the International Data Transfer Agreement or the UK Addendum to the EU standard contractual clauses.""",
       "en", ("topic-gdpr-data-export", "topic-data-deletion", "topic-suspicious-activity"), "United Kingdom", "All",
       region="uk", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-007", "《个人信息保护法》第四十四条至第五十条：个人的查阅、复制和转移权利", """
个人对其个人信息的处理享有知情权、决定权，有权限制或者拒绝他人对其个人信息进行处理（第四十四条）。个人有权向个人信息处理者查阅、复制其个人信息；请求将个人信息转移至其指定的个人信息处理者，符合国家网信部门规定条件的，个人信息处理者应当提供转移的途径（第四十五条）。

个人信息处理者应当建立便捷的个人行使权利的申请受理和处理机制；拒绝个人行使权利的请求的，应当说明理由（第五十条）。

受托处理个人信息的服务商应当按照约定协助个人信息处理者响应上述请求。""",
       "zh", ("topic-pipl",), "中国大陆", "All", region="cn", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-008", "《个人信息保护法》第四十七条：删除个人信息", """
有下列情形之一的，个人信息处理者应当主动删除个人信息；个人信息处理者未删除的，个人有权请求删除：处理目的已实现、无法实现或者为实现处理目的不再必要；个人信息处理者停止提供产品或者服务，或者保存期限已届满；个人撤回同意；个人信息处理者违反法律、行政法规或者违反约定处理个人信息；法律、行政法规规定的其他情形。

法律、行政法规规定的保存期限未届满，或者删除个人信息从技术上难以实现的，个人信息处理者应当停止除存储和采取必要的安全保护措施之外的处理。""",
       "zh", ("topic-data-deletion", "topic-pipl"), "中国大陆", "All", region="cn", binds=("*",), segments=_ALL_SEGMENTS,
       categories=SW_CATS),
    _r("RULE-009", "《个人信息保护法》第三十八条至第四十条：向境外提供个人信息", """
个人信息处理者因业务等需要，确需向中华人民共和国境外提供个人信息的，应当具备下列条件之一：通过国家网信部门组织的安全评估；按照国家网信部门的规定经专业机构进行个人信息保护认证；按照国家网信部门制定的标准合同与境外接收方订立合同；法律、行政法规或者国家网信部门规定的其他条件（第三十八条）。

向境外提供个人信息的，应当告知境外接收方的名称、联系方式、处理目的、处理方式、个人信息的种类以及个人行使权利的方式，并取得个人的单独同意（第三十九条）。关键信息基础设施运营者和处理个人信息达到规定数量的处理者，应当将在境内收集和产生的个人信息存储在境内（第四十条）。2024年发布的《促进和规范数据跨境流动规定》对部分场景作了豁免。""",
       "zh", ("topic-pipl",), "中国大陆", "All", region="cn", binds=("*",), segments=BUSINESS, categories=SW_CATS),
    _r("RULE-010", "《个人信息保护法》第五十七条：个人信息泄露的补救与通知", """
发生或者可能发生个人信息泄露、篡改、丢失的，个人信息处理者应当立即采取补救措施，并通知履行个人信息保护职责的部门和个人。

通知应当包括：发生或者可能发生个人信息泄露、篡改、丢失的信息种类、原因和可能造成的危害；个人信息处理者采取的补救措施和个人可以采取的减轻危害的措施；个人信息处理者的联系方式。

个人信息处理者采取措施能够有效避免信息泄露、篡改、丢失造成危害的，可以不通知个人；履行个人信息保护职责的部门认为可能造成危害的，有权要求个人信息处理者通知个人。""",
       "zh", ("topic-suspicious-activity",), "中国大陆", "All", region="cn", binds=("*",), segments=BUSINESS,
       categories=("cat-software", "cat-routers")),
    _r("RULE-011", "网络安全等级保护基本要求（GB/T 22239-2019，等保2.0）", """
《网络安全法》第二十一条要求网络运营者按照网络安全等级保护制度履行安全保护义务，采取防范计算机病毒和网络攻击、网络侵入等危害网络安全行为的技术措施，并监测、记录网络运行状态、网络安全事件，留存相关的网络日志不少于六个月。

GB/T 22239-2019 对第三级系统提出了恶意代码防范、入侵防范、身份鉴别（双因素认证）、安全审计、数据备份恢复等要求。银行、保险、医院、政务和教育机构的重要信息系统通常定为第三级，需每年开展等级测评。

选用终端安全软件和网络设备时，应确认其支持集中管理、日志留存和告警上报。""",
       "zh", ("topic-malware", "topic-suspicious-activity"), "中国大陆", "Financial services, healthcare, public sector",
       region="cn", binds=("Banking", "Insurance", "Healthcare", "Government", "Education", "Energy"),
       segments=("SEG-REGULATED", "SEG-PUBLIC", "SEG-ENTERPRISE"), categories=("cat-security-software", "cat-networking")),
    _r("RULE-012", "PCI DSS v4.0 Requirement 3: protect stored account data", """
Merchants and service providers that store, process or transmit cardholder data keep stored account data to a minimum, with retention and disposal policies. Sensitive authentication data (full track data, card verification codes, PINs) must not be stored after authorisation.

The primary account number (PAN) is masked when displayed, so that at most the BIN and the last four digits are visible to those without a business need, and rendered unreadable wherever it is stored (strong cryptography, truncation or tokenisation). Keys used to protect it are managed under documented procedures.

Support staff must never ask customers for a full card number or security code by e-mail, chat or phone.""",
       "en", ("topic-payment-failure",), "International (card schemes)", "Payments", binds=_PAYMENTS,
       segments=("SEG-SMB", "SEG-MIDMARKET", "SEG-ENTERPRISE", "SEG-REGULATED")),
    _r("RULE-013", "PCI DSS v4.0 Requirement 8.4: multi-factor authentication", """
Multi-factor authentication is required for all non-console access into the cardholder data environment by personnel with administrative access (8.4.1), for all access into the cardholder data environment (8.4.2, mandatory from 31 March 2025), and for all remote network access that could lead to it (8.4.3).

The factors must be independent, so that access to one does not grant access to another, and MFA systems must resist replay attacks and must not be bypassable by any user, including administrators, without a documented and time-limited exception.""",
       "en", ("topic-2fa", "topic-login-password", "topic-vpn"), "International (card schemes)", "Payments",
       binds=_PAYMENTS, segments=("SEG-SMB", "SEG-MIDMARKET", "SEG-ENTERPRISE", "SEG-REGULATED"),
       categories=("cat-security-software", "cat-routers")),
    _r("RULE-014", "EU Consumer Rights Directive 2011/83/EU: 14-day right of withdrawal", """
A consumer who buys at a distance (online, by phone) may withdraw from the contract within 14 days of receiving the goods without giving a reason. If the trader did not inform the consumer of this right, the period is extended by up to 12 months.

The trader reimburses all payments received, including standard delivery costs, within 14 days of being informed of the withdrawal, using the same means of payment, and may withhold the refund until the goods are back or the consumer has shown proof of sending them. The consumer bears the direct cost of returning the goods if informed of this in advance.

The right does not apply to sealed software unsealed after delivery, or to digital content once download has started with the consumer's express consent and acknowledgement.""",
       "en", ("topic-refund", "topic-returns"), "EU", "Consumer retail", region="eu", consumer_only=True,
       segments=("SEG-CONSUMER",), categories=HW_CATS + SW_CATS),
    _r("RULE-015", "EU Sale of Goods Directive (EU) 2019/771: legal guarantee of conformity", """
The seller is liable to the consumer for any lack of conformity that exists when the goods are delivered and becomes apparent within two years. For one year after delivery (longer where a Member State so provides) a defect is presumed to have existed at delivery unless the seller proves otherwise. Ireland transposed the Directive in the Consumer Rights Act 2022.

The consumer first chooses repair or replacement, free of charge and within a reasonable time. Where that is impossible, refused or fails, the consumer may have the price reduced or terminate the contract and get a refund. A commercial warranty such as ours comes in addition to this legal guarantee and cannot limit it.""",
       "en", ("topic-warranty-claim", "topic-hardware-fault"), "EU", "Consumer retail", region="eu", consumer_only=True,
       segments=("SEG-CONSUMER",), categories=HW_CATS),
    _r("RULE-016", "UK Consumer Rights Act 2015: right to reject, repair or replace", """
Goods sold to consumers must be of satisfactory quality, fit for purpose and as described. Within 30 days of delivery a consumer can reject faulty goods and get a full refund. After that, the consumer is entitled to one repair or replacement; if that fails, to a price reduction or a final right to reject.

A fault that appears within six months of delivery is presumed to have been there at delivery unless the trader proves otherwise. Refunds are given within 14 days of the trader agreeing the consumer is entitled to one, without any fee. Online purchases can also be cancelled within 14 days under the Consumer Contracts Regulations 2013.""",
       "en", ("topic-refund", "topic-returns", "topic-warranty-claim"), "United Kingdom", "Consumer retail", region="uk",
       consumer_only=True, segments=("SEG-CONSUMER",), categories=HW_CATS),
    _r("RULE-017", "《消费者权益保护法》第二十五条：网络购物七日无理由退货", """
经营者采用网络、电视、电话、邮购等方式销售商品，消费者有权自收到商品之日起七日内退货，且无需说明理由，但下列商品除外：消费者定作的；鲜活易腐的；在线下载或者消费者拆封的音像制品、计算机软件等数字化商品；交付的报纸、期刊。

除前款所列商品外，其他根据商品性质并经消费者在购买时确认不宜退货的商品，不适用无理由退货。消费者退货的商品应当完好。经营者应当自收到退回商品之日起七日内返还消费者支付的商品价款。退回商品的运费由消费者承担；经营者和消费者另有约定的，按照约定。""",
       "zh", ("topic-returns", "topic-refund"), "中国大陆", "Consumer retail", region="cn", consumer_only=True,
       segments=("SEG-CONSUMER",), categories=HW_CATS + SW_CATS),
    _r("RULE-018", "《部分商品修理更换退货责任规定》（“三包”规定）", """
列入目录的商品（包括微型计算机等）由销售者负责修理、更换、退货，三包有效期自开具发票之日起计算。

自售出之日起7日内发生性能故障，消费者可以选择退货、换货或者修理；15日内发生性能故障，消费者可以选择换货或者修理。在三包有效期内修理两次仍不能正常使用的，消费者可以凭修理记录要求免费换货或者退货。

因消费者使用、维护、保管不当造成损坏，或者非经营者指定的维修机构拆动造成损坏的，不实行三包，但可以实行收费修理。""",
       "zh", ("topic-warranty-claim", "topic-repair-status", "topic-hardware-fault"), "中国大陆", "Consumer electronics",
       region="cn", consumer_only=True, segments=("SEG-CONSUMER",), categories=("cat-laptops",)),
    _r("RULE-019", "Magnuson-Moss Warranty Act (United States)", """
The Act does not require a warranty, but a written warranty on a consumer product must be designated 'full' or 'limited' and its terms must be available to the buyer before purchase. Under a full warranty the warrantor must remedy defects within a reasonable time and without charge, and offer a refund or replacement if repeated attempts fail.

A warrantor may not make coverage conditional on using a particular brand of parts or service ('tie-in' provisions) unless provided free or approved by the FTC, and implied warranties cannot be disclaimed while a written warranty is given, only limited in duration.""",
       "en", ("topic-warranty-claim",), "United States", "Consumer retail", region="us", consumer_only=True,
       segments=("SEG-CONSUMER",), categories=HW_CATS),
    _r("RULE-020", "Australian Consumer Law: consumer guarantees", """
Goods must be of acceptable quality, fit for any disclosed purpose and match their description. A person is a consumer for goods of a kind ordinarily acquired for personal or household use, or costing up to A$100,000, including many business purchases.

For a major failure the consumer can choose a refund or a replacement, or compensation for the drop in value. For a minor failure the business may choose to repair in a reasonable time; if it does not, the consumer can get it done elsewhere and recover the cost or reject the goods. These guarantees cannot be excluded by contract, and a manufacturer's warranty is in addition to them.""",
       "en", ("topic-refund", "topic-returns", "topic-warranty-claim"), "Australia", "Consumer retail", region="au",
       consumer_only=True, segments=("SEG-CONSUMER", "SEG-SMB"), categories=HW_CATS),
    _r("RULE-021", "EU WEEE Directive 2012/19/EU: take-back of electrical and electronic waste", """
Producers finance the collection, treatment and recycling of waste electrical and electronic equipment (WEEE) and mark products with the crossed-out wheeled bin symbol. Distributors selling new equipment take back the same type of old equipment free of charge on a one-for-one basis, including for distance sales.

Shops with a sales area for electrical equipment of at least 400 m2 take back very small WEEE (no external dimension above 25 cm) free of charge without any purchase. Consumers must not put WEEE in unsorted municipal waste.""",
       "en", ("topic-returns",), "EU", "Electronics", region="eu", segments=_ALL_SEGMENTS,
       categories=("cat-printers", "cat-laptops", "cat-networking", "cat-accessories")),
    _r("RULE-022", "《废弃电器电子产品回收处理管理条例》", """
国家对废弃电器电子产品实行多渠道回收和集中处理制度，处理企业须取得废弃电器电子产品处理资格。电器电子产品生产者、进口电器电子产品的收货人或者其代理人，按规定缴纳废弃电器电子产品处理基金。

电器电子产品销售者、维修机构、售后服务机构应当在其营业场所显著位置标注废弃电器电子产品回收处理提示性信息；回收的废弃电器电子产品应当交有资格的处理企业处理。

列入《废弃电器电子产品处理目录》的产品包括微型计算机、打印机、复印机、传真机、监视器等。客户需要处理旧打印机、旧电脑时，可通过以旧换新渠道交回。""",
       "zh", ("topic-returns",), "中国大陆", "Electronics", region="cn", segments=_ALL_SEGMENTS,
       categories=("cat-printers", "cat-laptops")),
    _r("RULE-023", "EU Battery Regulation (EU) 2023/1542", """
The Regulation, applicable since 18 February 2024, covers the whole life cycle of batteries. Portable batteries incorporated in appliances must be removable and replaceable by the end user from 18 February 2027, with limited exceptions; labels must show capacity and other information, and producers must provide safety and end-of-life information.

Producers are responsible for take-back and recycling (extended producer responsibility), with collection targets for portable batteries of 63% by the end of 2027 and 73% by the end of 2030. Damaged or swollen lithium-ion batteries are dangerous goods and must be collected and shipped under special conditions.""",
       "en", ("topic-battery-power",), "EU", "Electronics", region="eu", segments=_ALL_SEGMENTS,
       categories=("cat-laptops", "cat-headsets")),
    _r("RULE-024", "US Export Administration Regulations: encryption items (ECCN 5A002, 5D002)", """
Hardware and software with strong encryption, such as VPN routers and endpoint security software, are classified under ECCN 5A002 or 5D002, or as mass-market items under 5A992/5D992 after classification under License Exception ENC (15 CFR 740.17).

Exports, re-exports and transfers of such items, including transfers of licences between companies and countries, must not go to embargoed destinations (Country Groups E:1 and E:2), to sanctioned regions, or to parties on the Entity List or other restricted-party lists without authorisation. Licence transfers to a new legal entity are screened before they are approved.""",
       "en", ("topic-license-transfer", "topic-vpn"), "United States", "Technology", region="global",
       segments=BUSINESS, categories=("cat-routers", "cat-security-software")),
    _r("RULE-025", "HIPAA Security Rule (45 CFR Part 164, Subpart C)", """
Covered entities (health plans, healthcare clearinghouses and most healthcare providers) and their business associates protect electronic protected health information (ePHI) with administrative, physical and technical safeguards: risk analysis, access control, audit controls, integrity controls and transmission security.

A vendor that creates, receives, maintains or transmits ePHI on behalf of a covered entity, for example a cloud storage or backup provider, is a business associate and must sign a business associate agreement. Breaches of unsecured PHI are notified to affected individuals without unreasonable delay and within 60 days of discovery, and to the HHS Secretary (and the media for breaches affecting more than 500 residents of a state).""",
       "en", ("topic-suspicious-activity", "topic-data-deletion", "topic-data-sync"), "United States", "Healthcare",
       region="us", binds=("Healthcare", "Insurance"), segments=("SEG-REGULATED",),
       categories=("cat-cloud-storage", "cat-security-software")),
    _r("RULE-026", "California Consumer Privacy Act (CCPA, as amended by the CPRA)", """
For-profit businesses doing business in California that exceed the revenue threshold (US$25 million, adjusted for inflation) or buy, sell or share the personal information of 100,000 or more consumers or households, or earn half their revenue from selling or sharing it, must honour California residents' rights to know, access, delete and correct their personal information and to opt out of its sale or sharing.

Businesses respond to verifiable requests within 45 calendar days, extendable once by another 45 days with notice. Service providers and contractors must assist and delete data when the business instructs them to.""",
       "en", ("topic-data-deletion", "topic-gdpr-data-export"), "United States (California)", "All", region="us-ca",
       binds=("Retail", "Technology", "Media", "Hospitality"), segments=BUSINESS, categories=SW_CATS),
)
