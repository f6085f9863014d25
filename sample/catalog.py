"""The sample company's catalogue: segments, channels, the 60 products and what can go wrong with each.

Skylark Systems (云雀系统) sells printers, laptops, networking gear, software and service plans to
businesses and consumers in English-speaking markets and mainland China. Which support topics
fit which product categories lives here too, so that a generated ticket never asks about a
paper jam on a cloud drive.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_EN = "Skylark Systems"
COMPANY_ZH = "云雀系统"
COMPANY_DOMAIN = "skylark.example"


@dataclass(frozen=True)
class Segment:
    """A customer segment; `uid` doubles as the key the generator uses."""

    uid: str
    name: str
    description: str


SEGMENTS: tuple[Segment, ...] = (
    Segment("SEG-ENTERPRISE", "Enterprise",
            "Companies with more than 1,000 employees; named account manager, SkyCare Premier, volume pricing."),
    Segment("SEG-MIDMARKET", "Mid-market",
            "Companies with 100 to 1,000 employees buying fleets of printers, laptops and networking."),
    Segment("SEG-SMB", "Small business",
            "Offices and shops under 100 employees; buy online or by phone, mostly SkyCare Basic or Business."),
    Segment("SEG-CONSUMER", "Consumers",
            "Individuals buying for home and study through the web shop, WeChat or retail partners."),
    Segment("SEG-PUBLIC", "Public sector and education",
            "Government bodies, schools and universities; tender-based purchasing and strict data rules."),
    Segment("SEG-REGULATED", "Financial services and healthcare",
            "Banks, insurers, clinics and hospitals; regulated data (PCI DSS, HIPAA, GDPR, PIPL) and audits."),
)

# uid, display name, share of support cases for English customers, for Chinese customers
CHANNELS: tuple[tuple[str, str, float, float], ...] = (
    ("CH-EMAIL", "Email", 0.33, 0.14),
    ("CH-PHONE", "Phone", 0.20, 0.20),
    ("CH-CHAT", "Live chat", 0.25, 0.14),
    ("CH-WEB", "Web portal", 0.22, 0.10),
    ("CH-WECHAT", "WeChat", 0.00, 0.42),
)

# category uid -> (English noun for templates, Chinese noun)
CATEGORY_NOUNS: dict[str, tuple[str, str]] = {
    "cat-laser-printers": ("printer", "打印机"),
    "cat-inkjet-printers": ("printer", "打印机"),
    "cat-printer-supplies": ("cartridge", "耗材"),
    "cat-laptops": ("laptop", "笔记本电脑"),
    "cat-routers": ("router", "路由器"),
    "cat-switches": ("switch", "交换机"),
    "cat-access-points": ("access point", "无线AP"),
    "cat-security-software": ("security software", "安全软件"),
    "cat-office-software": ("office software", "办公软件"),
    "cat-cloud-storage": ("cloud drive", "云盘"),
    "cat-docks-hubs": ("dock", "扩展坞"),
    "cat-headsets": ("headset", "耳机"),
    "cat-support-plans": ("support plan", "支持服务"),
    "cat-extended-warranty": ("care pack", "延保服务"),
}


@dataclass(frozen=True)
class ProductRow:
    """One catalogue entry before it becomes a Product record."""

    category: str
    name: str
    model: str
    price_usd: float
    feature_en: str
    feature_zh: str


PRODUCTS: tuple[ProductRow, ...] = (
    ProductRow("cat-laser-printers", "Skylark LP-1100w Compact Mono Laser", "LP-1100w", 139,
               "a compact Wi-Fi mono laser printer for home offices, 18 pages per minute",
               "小巧的无线黑白激光打印机，每分钟18页，适合家庭办公"),
    ProductRow("cat-laser-printers", "Skylark LP-2100 Mono Laser", "LP-2100", 189,
               "20 pages per minute with USB and Ethernet for small offices",
               "每分钟20页，带USB和有线网口，适合小型办公室"),
    ProductRow("cat-laser-printers", "Skylark LP-3300dn Duplex Mono Laser", "LP-3300dn", 349,
               "35 pages per minute, automatic duplex, PCL 6 and PostScript 3",
               "每分钟35页，自动双面打印，支持PCL 6与PostScript 3"),
    ProductRow("cat-laser-printers", "Skylark LP-4500cdw Colour Laser", "LP-4500cdw", 529,
               "colour laser with Wi-Fi Direct, duplex and 30 pages per minute",
               "彩色激光，支持Wi-Fi Direct和自动双面，每分钟30页"),
    ProductRow("cat-laser-printers", "Skylark LP-5600 Mono Laser MFP", "LP-5600", 749,
               "print, scan to e-mail, copy and fax with a 50-sheet document feeder",
               "打印、扫描到邮箱、复印、传真四合一，配50页自动输稿器"),
    ProductRow("cat-laser-printers", "Skylark LP-7200cx A3 Colour MFP", "LP-7200cx", 1690,
               "A3 colour multifunction for workgroups, 45 pages per minute, secure pull printing",
               "A3彩色多功能一体机，每分钟45页，支持刷卡安全释放打印"),
    ProductRow("cat-inkjet-printers", "Skylark InkJoy IJ-200", "IJ-200", 79,
               "an entry-level home inkjet with Wi-Fi and printing from phones",
               "入门级家用喷墨打印机，支持无线和手机直接打印"),
    ProductRow("cat-inkjet-printers", "Skylark InkJoy IJ-350 All-in-One", "IJ-350", 129,
               "print, scan and copy over Wi-Fi for families and students",
               "无线打印、扫描、复印，适合家庭和学生"),
    ProductRow("cat-inkjet-printers", "Skylark InkJoy IJ-450 Photo", "IJ-450", 199,
               "six-ink photo printing with borderless A4 and 10x15 cm prints",
               "六色墨水照片打印，支持A4及6寸无边距"),
    ProductRow("cat-inkjet-printers", "Skylark InkJoy IJ-680 Ink Tank", "IJ-680", 289,
               "refillable ink tanks good for 7,500 pages per set",
               "墨仓式设计可自行加墨，一套墨水约打印7500页"),
    ProductRow("cat-inkjet-printers", "Skylark InkJoy IJ-820 Office All-in-One", "IJ-820", 349,
               "duplex inkjet all-in-one with document feeder and fax for small offices",
               "带自动输稿器和传真的双面喷墨一体机，适合小微企业"),
    ProductRow("cat-printer-supplies", "Skylark LP-21 Toner Cartridge (3,000 pages)", "LP-21", 69,
               "genuine toner for LP-1100w, LP-2100 and LP-3300dn, about 3,000 pages",
               "原装墨粉盒，适用于LP-1100w、LP-2100、LP-3300dn，约3000页"),
    ProductRow("cat-printer-supplies", "Skylark LP-45 Colour Toner Set (CMYK)", "LP-45", 299,
               "four genuine colour toners for LP-4500cdw and LP-7200cx",
               "四色原装彩色墨粉，适用于LP-4500cdw和LP-7200cx"),
    ProductRow("cat-printer-supplies", "Skylark LP-DR30 Drum Unit", "LP-DR30", 119,
               "imaging drum for the LP mono range, about 30,000 pages",
               "黑白激光系列用感光鼓，寿命约30000页"),
    ProductRow("cat-printer-supplies", "Skylark IJ-68 Ink Bottle Set", "IJ-68", 39,
               "four ink bottles for the IJ-680 ink tank printer",
               "IJ-680墨仓打印机专用四色墨水"),
    ProductRow("cat-laptops", "Skylark AirBook 13", "AB13-24", 999,
               "a 1.1 kg 13.3-inch laptop with 16 GB RAM and an all-day battery",
               "1.1公斤13.3英寸轻薄本，16GB内存，续航一整天"),
    ProductRow("cat-laptops", "Skylark AirBook 14 Pro", "AB14P-25", 1399,
               "14-inch 2.8K OLED, 32 GB RAM and a 1 TB SSD for creators",
               "14英寸2.8K OLED屏，32GB内存，1TB固态硬盘，适合创作者"),
    ProductRow("cat-laptops", "Skylark WorkBook 14 G4", "WB14-G4", 1149,
               "a business laptop with TPM 2.0, fingerprint reader and docking support",
               "商务笔记本，带TPM 2.0安全芯片、指纹识别，支持扩展坞"),
    ProductRow("cat-laptops", "Skylark WorkBook 15 G3", "WB15-G3", 1049,
               "15.6-inch business laptop with numeric keypad and Ethernet port",
               "15.6英寸商务本，带数字小键盘和有线网口"),
    ProductRow("cat-laptops", "Skylark FieldBook R14 Rugged", "FB-R14", 2199,
               "a MIL-STD-810H rugged laptop with hot-swappable batteries",
               "通过MIL-STD-810H认证的三防笔记本，电池可热插拔"),
    ProductRow("cat-laptops", "Skylark StudyBook 11", "SB11-23", 449,
               "a spill-resistant 11.6-inch laptop for schools",
               "防泼溅键盘的11.6英寸教育笔记本"),
    ProductRow("cat-routers", "NetRidge AX3000 Home Router", "NR-AX3000", 129,
               "dual-band Wi-Fi 6 router for homes up to 150 square metres",
               "双频Wi-Fi 6家用路由器，覆盖约150平方米"),
    ProductRow("cat-routers", "NetRidge AX5400 Mesh Kit (3-pack)", "NR-AX5400M", 349,
               "tri-band Wi-Fi 6 mesh covering large homes and small offices",
               "三频Wi-Fi 6 Mesh组网套装，适合大户型和小型办公室"),
    ProductRow("cat-routers", "NetRidge BR-600 Business VPN Router", "BR-600", 399,
               "dual-WAN business router with IPsec and WireGuard VPN, up to 100 tunnels",
               "双WAN口企业路由器，支持IPsec与WireGuard VPN，最多100条隧道"),
    ProductRow("cat-routers", "NetRidge BR-1200 SD-WAN Edge", "BR-1200", 1199,
               "SD-WAN edge for branch offices with zero-touch provisioning",
               "面向分支机构的SD-WAN边缘设备，支持零接触部署"),
    ProductRow("cat-routers", "NetRidge LTE-50 4G Backup Router", "LTE-50", 259,
               "4G failover router that keeps tills and kiosks online",
               "4G备份路由器，主线路断开时保持收银和自助终端在线"),
    ProductRow("cat-switches", "NetRidge S8G 8-port Gigabit Switch", "S8G", 39,
               "unmanaged plug-and-play gigabit switch",
               "即插即用的非网管千兆交换机"),
    ProductRow("cat-switches", "NetRidge S16P Smart PoE Switch", "S16P", 329,
               "16-port smart PoE switch with 150 W budget for cameras and phones",
               "16口智能PoE交换机，150W供电预算，适合摄像头和IP电话"),
    ProductRow("cat-switches", "NetRidge S24G Managed Gigabit Switch", "S24G", 299,
               "24-port layer-2 managed switch with VLANs and 4 SFP uplinks",
               "24口二层网管交换机，支持VLAN，带4个SFP上联口"),
    ProductRow("cat-switches", "NetRidge S24P PoE+ Switch (370 W)", "S24P", 649,
               "24-port PoE+ switch with 370 W for access points and cameras",
               "24口PoE+交换机，370W供电，适合无线AP和监控摄像头"),
    ProductRow("cat-switches", "NetRidge S48X 10G Core Switch", "S48X", 2490,
               "48-port 10G layer-3 core switch with redundant power",
               "48口万兆三层核心交换机，冗余电源"),
    ProductRow("cat-access-points", "NetRidge AP-210W Wall-plate AP", "AP-210W", 129,
               "Wi-Fi 5 wall-plate access point for hotel rooms and dormitories",
               "面板式Wi-Fi 5无线AP，适合酒店客房和宿舍"),
    ProductRow("cat-access-points", "NetRidge AP-620 Wi-Fi 6 Ceiling AP", "AP-620", 189,
               "ceiling-mounted Wi-Fi 6 access point for offices",
               "吸顶式Wi-Fi 6无线AP，适合办公室"),
    ProductRow("cat-access-points", "NetRidge AP-720 Wi-Fi 6E AP", "AP-720", 299,
               "tri-band Wi-Fi 6E access point for dense offices and campuses",
               "三频Wi-Fi 6E无线AP，适合高密度办公区和校园"),
    ProductRow("cat-access-points", "NetRidge AP-O300 Outdoor AP", "AP-O300", 349,
               "IP67 outdoor access point for warehouses, yards and campuses",
               "IP67防护的室外AP，适合仓库、堆场和校园"),
    ProductRow("cat-security-software", "SkyShield Home Security (5 devices)", "SSH-5", 59,
               "antivirus, safe browsing and parental controls for five devices for a year",
               "杀毒、安全浏览和家长控制，5台设备一年"),
    ProductRow("cat-security-software", "SkyShield Endpoint Protection", "SSE-STD", 36,
               "managed antivirus and firewall per device per year with a cloud console",
               "按设备按年订阅的终端防病毒与防火墙，云端统一管理"),
    ProductRow("cat-security-software", "SkyShield EDR Advanced", "SSE-EDR", 68,
               "endpoint detection and response with ransomware rollback, per device per year",
               "终端检测与响应，支持勒索软件回滚，按设备按年订阅"),
    ProductRow("cat-security-software", "SkyShield Mail Guard", "SSM-MG", 24,
               "phishing and malware filtering per mailbox per year",
               "按邮箱按年订阅的钓鱼邮件与恶意附件过滤"),
    ProductRow("cat-security-software", "SkyShield Mobile Security", "SSM-MOB", 19,
               "anti-theft and malware protection for Android and iOS",
               "安卓和iOS的防盗与恶意软件防护"),
    ProductRow("cat-office-software", "SkyOffice Home", "SOH-1Y", 69,
               "word processor, spreadsheets and slides for up to 5 family members",
               "文字、表格、演示三件套，最多5位家庭成员使用"),
    ProductRow("cat-office-software", "SkyOffice Business (per user)", "SOB-1Y", 120,
               "office suite with shared mailboxes and admin console, per user per year",
               "含共享邮箱和管理后台的办公套件，按用户按年订阅"),
    ProductRow("cat-office-software", "SkyDocs PDF Pro", "SDP-PERP", 129,
               "a perpetual-licence PDF editor with OCR and e-signatures",
               "永久授权的PDF编辑器，支持OCR文字识别和电子签名"),
    ProductRow("cat-office-software", "SkyMeet Video Conferencing (per host)", "SKM-HOST", 150,
               "video meetings for up to 300 participants, per host per year",
               "最多300人参会的视频会议，按主持人按年订阅"),
    ProductRow("cat-cloud-storage", "SkyVault Personal 1 TB", "SV-P1T", 60,
               "1 TB cloud drive with phone photo backup, per year",
               "1TB个人云盘，支持手机相册自动备份，按年订阅"),
    ProductRow("cat-cloud-storage", "SkyVault Family 2 TB", "SV-F2T", 99,
               "2 TB shared by up to six family members, per year",
               "2TB空间，最多6位家庭成员共享，按年订阅"),
    ProductRow("cat-cloud-storage", "SkyVault Business (per user)", "SV-BIZ", 96,
               "team folders, version history and admin audit log, per user per year",
               "团队文件夹、历史版本和管理员审计日志，按用户按年订阅"),
    ProductRow("cat-cloud-storage", "SkyVault Server Backup (per server)", "SV-SRV", 480,
               "image-level backup of Windows and Linux servers to the cloud, per server per year",
               "Windows与Linux服务器整机云备份，按服务器按年订阅"),
    ProductRow("cat-docks-hubs", "Skylark USB-C Travel Hub H5", "H5", 49,
               "five-port USB-C travel hub with HDMI and 100 W pass-through",
               "五合一USB-C便携扩展坞，带HDMI和100W供电直通"),
    ProductRow("cat-docks-hubs", "Skylark USB-C Dock D300", "D300", 149,
               "USB-C dock driving two 4K monitors with 90 W charging",
               "USB-C扩展坞，可接两台4K显示器，90W充电"),
    ProductRow("cat-docks-hubs", "Skylark Thunderbolt 4 Dock D700", "D700", 279,
               "Thunderbolt 4 dock with 2.5 GbE, three displays and 96 W charging",
               "雷电4扩展坞，2.5G网口，支持三屏输出和96W充电"),
    ProductRow("cat-headsets", "Skylark Voice H100 USB Headset", "H100", 39,
               "a wired USB headset with noise-reducing boom microphone",
               "USB有线耳麦，带降噪麦克风杆"),
    ProductRow("cat-headsets", "Skylark Voice H200 Wireless Headset", "H200", 99,
               "DECT wireless headset with 30-hour talk time for contact centres",
               "DECT无线耳麦，通话30小时，适合呼叫中心"),
    ProductRow("cat-headsets", "Skylark Voice H350 ANC Bluetooth Headset", "H350", 179,
               "Bluetooth headset with active noise cancelling and a USB dongle",
               "主动降噪蓝牙耳机，附USB适配器"),
    ProductRow("cat-support-plans", "SkyCare Basic Support Plan", "SC-BASIC", 99,
               "business-hours e-mail and chat support with next-business-day response",
               "工作时间邮件与在线客服支持，下一个工作日内响应"),
    ProductRow("cat-support-plans", "SkyCare Business Support Plan", "SC-BIZ", 1200,
               "phone support 8x5 with 4-hour response and a shared case portal",
               "5x8电话支持，4小时响应，共享工单门户"),
    ProductRow("cat-support-plans", "SkyCare Premier Support Plan", "SC-PREM", 9800,
               "24x7 support with 30-minute response for urgent cases and a named technical account manager",
               "7x24小时支持，紧急工单30分钟响应，配专属技术客户经理"),
    ProductRow("cat-extended-warranty", "CarePack Laptop 3-year Next Business Day", "CP-LT3", 179,
               "extends laptop warranty to three years with next-business-day on-site repair",
               "笔记本保修延长至三年，下一个工作日上门维修"),
    ProductRow("cat-extended-warranty", "CarePack Accidental Damage (2 years)", "CP-ADP2", 129,
               "covers drops and spills for two years, one claim per year",
               "两年意外损坏保护，涵盖跌落和进液，每年可报修一次"),
    ProductRow("cat-extended-warranty", "CarePack Printer On-site 3-year", "CP-PR3", 249,
               "three years of on-site printer repair with parts and labour",
               "打印机三年上门维修服务，含配件和人工"),
)

HARDWARE = ("cat-laser-printers", "cat-inkjet-printers", "cat-printer-supplies", "cat-laptops", "cat-routers",
            "cat-switches", "cat-access-points", "cat-docks-hubs", "cat-headsets")
SOFTWARE = ("cat-security-software", "cat-office-software", "cat-cloud-storage")
SERVICES = ("cat-support-plans", "cat-extended-warranty")
PRINTERS = ("cat-laser-printers", "cat-inkjet-printers")
DEVICES = ("cat-laser-printers", "cat-inkjet-printers", "cat-laptops", "cat-routers", "cat-switches",
           "cat-access-points", "cat-docks-hubs", "cat-headsets")

# leaf topic -> (relative case weight, product categories it is raised about, business customers only)
TOPICS: dict[str, tuple[float, tuple[str, ...], bool]] = {
    "topic-refund": (4, HARDWARE + SOFTWARE + SERVICES, False),
    "topic-invoice": (3, HARDWARE + SOFTWARE + SERVICES, False),
    "topic-payment-failure": (3, HARDWARE + SOFTWARE + SERVICES, False),
    "topic-subscription": (4, SOFTWARE + SERVICES, False),
    "topic-shipping-delay": (5, HARDWARE, False),
    "topic-damaged-item": (3, DEVICES + ("cat-printer-supplies",), False),
    "topic-returns": (4, HARDWARE, False),
    "topic-login-password": (4, SOFTWARE, False),
    "topic-2fa": (3, SOFTWARE, False),
    "topic-account-locked": (3, SOFTWARE, False),
    "topic-installation": (4, PRINTERS + ("cat-routers", "cat-switches", "cat-access-points", "cat-docks-hubs")
                           + SOFTWARE, False),
    "topic-driver-update": (5, PRINTERS + ("cat-laptops", "cat-docks-hubs", "cat-headsets"), False),
    "topic-wifi": (4, ("cat-routers", "cat-access-points", "cat-laptops") + PRINTERS, False),
    "topic-vpn": (6, ("cat-routers",), True),
    "topic-performance": (3, ("cat-laptops", "cat-routers", "cat-switches") + SOFTWARE, False),
    "topic-data-sync": (5, ("cat-cloud-storage", "cat-office-software"), False),
    "topic-printing": (5, PRINTERS + ("cat-printer-supplies",), False),
    "topic-battery-power": (3, ("cat-laptops", "cat-headsets", "cat-docks-hubs"), False),
    "topic-hardware-fault": (4, DEVICES, False),
    "topic-warranty-claim": (4, DEVICES, False),
    "topic-repair-status": (3, DEVICES, False),
    "topic-gdpr-data-export": (3, SOFTWARE, False),
    "topic-data-deletion": (2, SOFTWARE, False),
    "topic-pipl": (4, SOFTWARE, False),
    "topic-malware": (4, ("cat-security-software",), False),
    "topic-suspicious-activity": (2, ("cat-security-software", "cat-cloud-storage", "cat-office-software",
                                      "cat-routers"), False),
    "topic-api-errors": (3, ("cat-cloud-storage", "cat-office-software", "cat-security-software"), True),
    "topic-sso": (3, ("cat-cloud-storage", "cat-office-software", "cat-security-software"), True),
    "topic-license-activation": (3, SOFTWARE, False),
    "topic-license-transfer": (2, SOFTWARE, False),
}

# How often a product of each category leads to a support case, relative to an average order line.
CASE_PROPENSITY: dict[str, float] = {
    "cat-laser-printers": 1.3, "cat-inkjet-printers": 1.3, "cat-printer-supplies": 0.35, "cat-laptops": 1.2,
    "cat-routers": 1.5, "cat-switches": 1.0, "cat-access-points": 1.3, "cat-security-software": 2.0,
    "cat-office-software": 1.6, "cat-cloud-storage": 2.0, "cat-docks-hubs": 0.8, "cat-headsets": 0.6,
    "cat-support-plans": 0.8, "cat-extended-warranty": 0.6,
}

# topic -> the team that owns it (fallback resolvers and document authors)
TOPIC_TEAMS: dict[str, str] = {
    "topic-refund": "Billing", "topic-invoice": "Billing", "topic-payment-failure": "Billing",
    "topic-subscription": "Account Management", "topic-shipping-delay": "Logistics",
    "topic-damaged-item": "Logistics", "topic-returns": "Logistics",
    "topic-login-password": "Technical Support L1", "topic-2fa": "Technical Support L1",
    "topic-account-locked": "Technical Support L1", "topic-installation": "Technical Support L1",
    "topic-driver-update": "Technical Support L2", "topic-wifi": "Networking", "topic-vpn": "Networking",
    "topic-performance": "Technical Support L2", "topic-data-sync": "Technical Support L2",
    "topic-printing": "Technical Support L1", "topic-battery-power": "Technical Support L1",
    "topic-hardware-fault": "Technical Support L2", "topic-warranty-claim": "Logistics",
    "topic-repair-status": "Logistics", "topic-gdpr-data-export": "Security & Compliance",
    "topic-data-deletion": "Security & Compliance", "topic-pipl": "Security & Compliance",
    "topic-malware": "Security & Compliance", "topic-suspicious-activity": "Security & Compliance",
    "topic-api-errors": "Technical Support L2", "topic-sso": "Technical Support L2",
    "topic-license-activation": "Technical Support L1", "topic-license-transfer": "Account Management",
}

# What each segment tends to buy: category -> weight.
SEGMENT_BASKETS: dict[str, dict[str, float]] = {
    "SEG-ENTERPRISE": {"cat-laptops": 5, "cat-laser-printers": 3, "cat-printer-supplies": 6, "cat-switches": 2,
        "cat-access-points": 3, "cat-routers": 1, "cat-security-software": 4,
        "cat-office-software": 4, "cat-cloud-storage": 3, "cat-docks-hubs": 3,
        "cat-headsets": 3, "cat-support-plans": 1, "cat-extended-warranty": 2},
    "SEG-MIDMARKET": {"cat-laptops": 4, "cat-laser-printers": 3, "cat-printer-supplies": 6, "cat-switches": 2,
        "cat-access-points": 2, "cat-routers": 2, "cat-security-software": 3,
        "cat-office-software": 3, "cat-cloud-storage": 3, "cat-docks-hubs": 2,
        "cat-headsets": 2, "cat-support-plans": 1, "cat-extended-warranty": 1},
    "SEG-SMB": {"cat-laptops": 3, "cat-laser-printers": 2, "cat-inkjet-printers": 2, "cat-printer-supplies": 6,
        "cat-routers": 2, "cat-switches": 1, "cat-access-points": 1, "cat-security-software": 3,
        "cat-office-software": 3, "cat-cloud-storage": 2, "cat-docks-hubs": 1, "cat-headsets": 1,
        "cat-support-plans": 1},
    "SEG-CONSUMER": {"cat-laptops": 3, "cat-inkjet-printers": 3, "cat-printer-supplies": 4, "cat-routers": 3,
        "cat-security-software": 2, "cat-office-software": 2, "cat-cloud-storage": 3,
        "cat-docks-hubs": 2, "cat-headsets": 3, "cat-extended-warranty": 2},
    "SEG-PUBLIC": {"cat-laptops": 5, "cat-laser-printers": 3, "cat-printer-supplies": 5, "cat-switches": 2,
        "cat-access-points": 3, "cat-security-software": 3, "cat-office-software": 3,
        "cat-docks-hubs": 1, "cat-headsets": 1, "cat-support-plans": 1, "cat-extended-warranty": 2},
    "SEG-REGULATED": {"cat-laptops": 4, "cat-laser-printers": 3, "cat-printer-supplies": 5, "cat-switches": 2,
        "cat-access-points": 2, "cat-routers": 2, "cat-security-software": 5,
        "cat-office-software": 3, "cat-cloud-storage": 3, "cat-docks-hubs": 2,
        "cat-headsets": 3, "cat-support-plans": 1, "cat-extended-warranty": 1},
}

# Units per order line by segment: (minimum, maximum) for devices, and for per-seat software.
LINE_QUANTITY: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "SEG-ENTERPRISE": ((5, 60), (50, 600)),
    "SEG-MIDMARKET": ((2, 25), (20, 200)),
    "SEG-SMB": ((1, 6), (3, 40)),
    "SEG-CONSUMER": ((1, 2), (1, 1)),
    "SEG-PUBLIC": ((3, 40), (30, 400)),
    "SEG-REGULATED": ((3, 30), (30, 300)),
}

# Currency and exchange rate (units per USD) by country; prices are rounded the local way.
CURRENCIES: dict[str, tuple[str, float]] = {
    "United States": ("USD", 1.0), "Canada": ("CAD", 1.36), "United Kingdom": ("GBP", 0.79),
    "Ireland": ("EUR", 0.92), "Australia": ("AUD", 1.51), "New Zealand": ("NZD", 1.65),
    "Singapore": ("SGD", 1.35), "China": ("CNY", 7.2),
}
