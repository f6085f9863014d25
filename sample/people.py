"""The sample company's people: 42 employees with skills, and 300 generated customers.

Employees are a fixed table so that "who knows about X" has a sensible answer: each topic has
one or two real experts (level 5) and a few people who can help. Customers are generated from
name pools, a third of them in mainland China with Chinese names, cities and phone numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from kcrm.sample.catalog import COMPANY_DOMAIN


@dataclass(frozen=True)
class Employee:
    """A member of staff; `skills` maps a leaf topic uid to a level 1-5."""

    uid: str
    name: str
    email: str
    team: str
    job_title: str
    languages: tuple[str, ...]
    skills: dict[str, int]


_STAFF: tuple[tuple[str, str, str, str, str, str], ...] = (
    # name, e-mail local part, team, job title, languages, skills "topic:level ..."
    ("Sarah Mitchell", "sarah.mitchell", "Billing", "Billing Specialist II", "en",
     "refund:5 invoice:3 payment-failure:4"),
    ("David Okafor", "david.okafor", "Billing", "Billing Specialist", "en",
     "invoice:5 payment-failure:3 subscription:2"),
    ("陈静", "chen.jing", "Billing", "Billing Specialist II", "zh en", "refund:5 invoice:4 payment-failure:3"),
    ("刘洋", "liu.yang", "Billing", "Billing Specialist", "zh", "invoice:5 payment-failure:4 subscription:3 refund:2"),
    ("Emily Carter", "emily.carter", "Billing", "Billing Team Lead", "en",
     "subscription:5 refund:3 payment-failure:2 license-transfer:2"),
    ("Tom Reilly", "tom.reilly", "Billing", "Billing Specialist", "en", "payment-failure:5 refund:2"),
    ("Jessica Nguyen", "jessica.nguyen", "Technical Support L1", "Support Engineer", "en",
     "login-password:5 installation:4 account-locked:4 printing:2"),
    ("Michael Brooks", "michael.brooks", "Technical Support L1", "Support Engineer", "en",
     "printing:4 installation:3 battery-power:2 performance:2"),
    ("王磊", "wang.lei", "Technical Support L1", "Support Engineer", "zh",
     "account-locked:5 login-password:4 2fa:4 installation:2"),
    ("张敏", "zhang.min", "Technical Support L1", "Support Engineer", "zh en",
     "printing:5 driver-update:4 installation:4"),
    ("Priya Sharma", "priya.sharma", "Technical Support L1", "Support Engineer", "en",
     "2fa:5 login-password:3 license-activation:3 data-sync:2"),
    ("Ryan O'Connor", "ryan.oconnor", "Technical Support L1", "Support Engineer", "en",
     "battery-power:5 performance:3 hardware-fault:2"),
    ("李娜", "li.na", "Technical Support L1", "Support Engineer", "zh",
     "battery-power:4 license-activation:4 performance:3 data-sync:3"),
    ("Hannah Schulz", "hannah.schulz", "Technical Support L1", "Support Engineer", "en",
     "license-activation:5 installation:2 account-locked:2"),
    ("Daniel Kim", "daniel.kim", "Technical Support L2", "Senior Support Engineer", "en",
     "driver-update:5 printing:5 hardware-fault:3"),
    ("赵强", "zhao.qiang", "Technical Support L2", "Senior Support Engineer", "zh en",
     "driver-update:5 printing:4 hardware-fault:4 performance:3"),
    ("Olivia Bennett", "olivia.bennett", "Technical Support L2", "Support Engineer L2", "en",
     "data-sync:5 performance:4 api-errors:3"),
    ("Marcus Lee", "marcus.lee", "Technical Support L2", "Integration Engineer", "en",
     "api-errors:5 sso:4 data-sync:3"),
    ("孙悦", "sun.yue", "Technical Support L2", "Integration Engineer", "zh",
     "data-sync:5 api-errors:4 sso:4 installation:3"),
    ("James Walsh", "james.walsh", "Technical Support L2", "Hardware Engineer", "en",
     "hardware-fault:5 battery-power:4 driver-update:2"),
    ("周婷", "zhou.ting", "Technical Support L2", "Support Engineer L2", "zh",
     "performance:5 hardware-fault:3 malware:2"),
    ("Kevin Murphy", "kevin.murphy", "Networking", "Network Engineer", "en", "wifi:5 vpn:3 performance:2"),
    ("Aisha Rahman", "aisha.rahman", "Networking", "Network Engineer", "en", "vpn:5 wifi:3 sso:2"),
    ("吴昊", "wu.hao", "Networking", "Senior Network Engineer", "zh en", "vpn:5 wifi:4"),
    ("郑凯", "zheng.kai", "Networking", "Network Engineer", "zh", "wifi:5 vpn:3 hardware-fault:2"),
    ("Chris Anderson", "chris.anderson", "Networking", "Network Architect", "en",
     "vpn:4 wifi:4 api-errors:2 suspicious-activity:2"),
    ("Laura Fischer", "laura.fischer", "Security & Compliance", "Data Protection Officer", "en",
     "gdpr-data-export:5 data-deletion:5 pipl:2"),
    ("Ben Thompson", "ben.thompson", "Security & Compliance", "Security Analyst", "en",
     "suspicious-activity:5 malware:4 2fa:3"),
    ("黄丽", "huang.li", "Security & Compliance", "Compliance Manager", "zh en",
     "pipl:5 data-deletion:4 gdpr-data-export:4"),
    ("马超", "ma.chao", "Security & Compliance", "Security Analyst", "zh", "malware:5 suspicious-activity:4 2fa:2"),
    ("Grace Wilson", "grace.wilson", "Security & Compliance", "Compliance Analyst", "en",
     "gdpr-data-export:4 data-deletion:3 sso:2"),
    ("Robert Hughes", "robert.hughes", "Account Management", "Senior Account Manager", "en",
     "subscription:4 license-transfer:4 invoice:2"),
    ("Sophie Turner", "sophie.turner", "Account Management", "Account Manager", "en",
     "license-transfer:5 subscription:3 refund:2"),
    ("林峰", "lin.feng", "Account Management", "Key Account Manager", "zh en",
     "subscription:4 license-transfer:3 invoice:3"),
    ("徐晓", "xu.xiao", "Account Management", "Account Manager", "zh", "subscription:5 refund:3 license-transfer:2"),
    ("Andrew Clarke", "andrew.clarke", "Account Management", "Account Manager", "en",
     "invoice:3 subscription:2 license-activation:2"),
    ("何佳", "he.jia", "Account Management", "Account Manager", "zh",
     "license-transfer:4 license-activation:3 invoice:2"),
    ("Mark Davies", "mark.davies", "Logistics", "Logistics Coordinator", "en",
     "shipping-delay:5 damaged-item:3 returns:3"),
    ("Rachel Adams", "rachel.adams", "Logistics", "Returns and Repair Coordinator", "en",
     "returns:5 warranty-claim:4 repair-status:4"),
    ("杨帆", "yang.fan", "Logistics", "Logistics Coordinator", "zh", "shipping-delay:5 returns:4 damaged-item:4"),
    ("朱琳", "zhu.lin", "Logistics", "Repair Coordinator", "zh en", "warranty-claim:5 repair-status:5 damaged-item:3"),
    ("Paul Martin", "paul.martin", "Logistics", "Warranty Specialist", "en",
     "warranty-claim:5 damaged-item:4 repair-status:3 hardware-fault:2"),
)


def build_employees() -> list[Employee]:
    """The staff table as Employee objects (EMP-001 ...)."""
    staff = []
    for n, (name, local, team, title, langs, skills) in enumerate(_STAFF, start=1):
        levels = {f"topic-{item.split(':')[0]}": int(item.split(":")[1]) for item in skills.split()}
        staff.append(Employee(f"EMP-{n:03d}", name, f"{local}@{COMPANY_DOMAIN}", team, title,
                              tuple(langs.split()), levels))
    return staff


@dataclass
class Customer:
    """A generated customer and the hidden traits that drive its orders and cases."""

    uid: str
    name: str
    industry: str
    country: str
    city: str
    email: str
    phone: str
    since: date
    language: str
    segment: str
    is_person: bool
    owner: str
    cadence_days: float
    stop_date: date | None
    slowdown_from: date | None


# country -> (share of English-market customers, [(city, phone prefix), ...], company suffixes)
_EN_MARKETS: dict[str, tuple[int, list[tuple[str, str]], list[str]]] = {
    "United States": (70, [("New York", "+1 212-555-01"), ("Chicago", "+1 312-555-01"), ("Austin", "+1 512-555-01"),
                           ("Seattle", "+1 206-555-01"), ("Boston", "+1 617-555-01"), ("Denver", "+1 303-555-01"),
                           ("Atlanta", "+1 404-555-01"), ("San Francisco", "+1 415-555-01"),
                           ("San Diego", "+1 619-555-01")], ["Inc.", "LLC", "Corp."]),
    "United Kingdom": (45, [("London", "+44 20 7946 0"), ("Manchester", "+44 161 496 0"),
                            ("Birmingham", "+44 121 496 0"), ("Leeds", "+44 113 496 0"), ("Bristol", "+44 117 496 0"),
                            ("Edinburgh", "+44 131 496 0"), ("Glasgow", "+44 141 496 0")], ["Ltd", "plc"]),
    "Ireland": (20, [("Dublin", "+353 1 555 0"), ("Cork", "+353 21 555 0"), ("Galway", "+353 91 555 0"),
                     ("Limerick", "+353 61 555 0")], ["Ltd", "DAC"]),
    "Australia": (25, [("Sydney", "+61 2 5550 0"), ("Melbourne", "+61 3 5550 0"), ("Brisbane", "+61 7 5550 0"),
                       ("Perth", "+61 8 5550 0"), ("Adelaide", "+61 8 5551 0")], ["Pty Ltd"]),
    "Canada": (20, [("Toronto", "+1 416-555-01"), ("Vancouver", "+1 604-555-01"), ("Montreal", "+1 514-555-01"),
                    ("Calgary", "+1 403-555-01"), ("Ottawa", "+1 613-555-01")], ["Inc.", "Ltd."]),
    "New Zealand": (8, [("Auckland", "+64 9 555 0"), ("Wellington", "+64 4 555 0"),
                        ("Christchurch", "+64 3 555 0")], ["Ltd"]),
    "Singapore": (12, [("Singapore", "+65 6555 0")], ["Pte Ltd"]),
}
_CN_CITIES = [("北京", "010"), ("上海", "021"), ("深圳", "0755"), ("广州", "020"), ("杭州", "0571"), ("成都", "028"),
              ("南京", "025"), ("武汉", "027"), ("苏州", "0512"), ("西安", "029"), ("天津", "022"), ("重庆", "023"),
              ("青岛", "0532"), ("厦门", "0592"), ("长沙", "0731")]
_CN_CITY_PINYIN = {"北京": "bj", "上海": "sh", "深圳": "sz", "广州": "gz", "杭州": "hz", "成都": "cd", "南京": "nj",
                   "武汉": "wh", "苏州": "suz", "西安": "xa", "天津": "tj", "重庆": "cq", "青岛": "qd", "厦门": "xm",
                   "长沙": "cs"}

_INDUSTRIES = ("Banking", "Insurance", "Healthcare", "Retail", "Manufacturing", "Logistics", "Education",
               "Government", "Legal services", "Hospitality", "Media", "Technology", "Construction", "Energy")
_INDUSTRY_WEIGHTS = (5, 3, 7, 9, 10, 7, 6, 4, 4, 5, 4, 9, 5, 3)
_EN_TRADE = {
    "Banking": ["Bank", "Savings Bank", "Credit Union", "Capital"], "Insurance": ["Insurance", "Mutual Assurance"],
    "Healthcare": ["Medical Group", "Health Clinic", "Dental Care", "Diagnostics", "Community Hospital"],
    "Retail": ["Outfitters", "Home Stores", "Pharmacy", "Market", "Books"],
    "Manufacturing": ["Precision Engineering", "Plastics", "Manufacturing", "Tooling", "Components"],
    "Logistics": ["Logistics", "Freight", "Couriers", "Warehousing"],
    "Education": ["Academy", "College", "Grammar School", "Institute of Technology"],
    "Government": ["County Council", "City Council", "Water Authority", "Transport Agency"],
    "Legal services": ["Legal", "Law Partners", "Solicitors"], "Hospitality": ["Hotels", "Resorts", "Restaurant Group"],
    "Media": ["Media", "Studios", "Publishing"], "Technology": ["Software", "Labs", "Analytics", "Digital"],
    "Construction": ["Builders", "Construction", "Architects"], "Energy": ["Energy", "Solar", "Utilities"],
}
_EN_STEMS = ["Harbor", "Bluegate", "Northfield", "Silverline", "Redwood", "Clearwater", "Summit", "Oakridge",
             "Brightpath", "Ironbridge", "Westmoor", "Kingsway", "Maple Leaf", "Lakeside", "Granite", "Pinecrest",
             "Riverside", "Stonehill", "Crescent", "Falcon", "Beacon", "Meridian", "Highland", "Cobalt", "Evergreen",
             "Ashford", "Whitfield", "Thornbury", "Copperleaf", "Seaview", "Juniper", "Larkspur", "Foxglove",
             "Bramble", "Wexford", "Tidewater", "Aldgate", "Sterling", "Cedar Point", "Northgate"]
_CN_TRADE = {
    "Banking": ["农村商业银行", "村镇银行"], "Insurance": ["财产保险股份有限公司", "保险代理有限公司"],
    "Healthcare": ["医院", "口腔门诊部", "医疗器械有限公司", "体检中心"],
    "Retail": ["商贸有限公司", "连锁超市有限公司", "电子商务有限公司"],
    "Manufacturing": ["精密制造有限公司", "电子科技有限公司", "机械有限公司", "塑胶制品有限公司"],
    "Logistics": ["物流有限公司", "供应链管理有限公司"], "Education": ["职业技术学院", "教育科技有限公司", "外国语学校"],
    "Government": ["政务服务中心", "公共资源交易中心"], "Legal services": ["律师事务所"],
    "Hospitality": ["酒店管理有限公司", "餐饮管理有限公司"], "Media": ["文化传媒有限公司"],
    "Technology": ["信息技术有限公司", "网络科技有限公司", "软件有限公司"],
    "Construction": ["建设工程有限公司", "建筑设计院有限公司"], "Energy": ["新能源科技有限公司", "能源有限公司"],
}
_CN_STEMS = [("恒信", "hengxin"), ("华瑞", "huarui"), ("金桥", "jinqiao"), ("远航", "yuanhang"), ("启明", "qiming"),
             ("鼎盛", "dingsheng"), ("嘉禾", "jiahe"), ("新元", "xinyuan"), ("博通", "botong"), ("瑞丰", "ruifeng"),
             ("宏达", "hongda"), ("天成", "tiancheng"), ("同创", "tongchuang"), ("安泰", "antai"), ("德润", "derun"),
             ("永信", "yongxin"), ("正和", "zhenghe"), ("东升", "dongsheng"), ("锦程", "jincheng"), ("思远", "siyuan"),
             ("明德", "mingde"), ("云帆", "yunfan"), ("海川", "haichuan"), ("星辰", "xingchen"), ("青禾", "qinghe"),
             ("致远", "zhiyuan"), ("和光", "heguang"), ("泰和", "taihe"), ("中恒", "zhongheng"), ("华新", "huaxin")]
_EN_FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
             "Oliver", "Amelia", "Jack", "Isla", "Noah", "Ava", "Liam", "Charlotte", "Ethan", "Grace", "Aoife",
             "Conor", "Siobhan", "Cian", "Chloe", "Lucas", "Mia", "Arjun", "Ananya", "Wei Ling", "Marcus", "Zoe",
             "Samuel", "Hannah", "Daniel", "Emily", "Matthew", "Sophie", "Benjamin", "Ella"]
_EN_LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clarke",
            "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards", "Murphy", "Kelly", "O'Brien",
            "Byrne", "Ryan", "Walsh", "Campbell", "Stewart", "MacDonald", "Patel", "Singh", "Tan", "Lim", "Nguyen",
            "Martin", "Roberts", "Lewis", "Harris", "Young", "King", "Scott", "Green", "Baker"]
_CN_SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
                ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
                ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"),
                ("罗", "luo")]
_CN_GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
             ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
             ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
             ("晓东", "xiaodong"), ("思雨", "siyu"), ("子涵", "zihan"), ("浩然", "haoran"), ("雨桐", "yutong"),
             ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("建华", "jianhua"), ("文博", "wenbo"), ("佳琪", "jiaqi")]

N_CUSTOMERS = 300
N_CHINA = 100
ORDER_START = date(2023, 1, 1)
DATA_END = date(2026, 10, 31)


def _segment(rng: random.Random, industry: str, is_person: bool) -> str:
    if is_person:
        return "SEG-CONSUMER"
    if industry in ("Banking", "Insurance", "Healthcare"):
        return "SEG-REGULATED"
    if industry in ("Education", "Government"):
        return "SEG-PUBLIC"
    return rng.choices(["SEG-ENTERPRISE", "SEG-MIDMARKET", "SEG-SMB"], [2, 3.5, 4.5])[0]


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _english_identity(rng: random.Random, country: str, is_person: bool, industry: str,
                      taken: set[str]) -> tuple[str, str, str, str]:
    """(name, city, email, phone) for a customer in an English-speaking market."""
    _, cities, suffixes = _EN_MARKETS[country]
    city, phone_prefix = rng.choice(cities)
    phone = f"{phone_prefix}{rng.randint(0, 99):02d}" if phone_prefix.endswith("01") else \
        f"{phone_prefix}{rng.randint(0, 999):03d}"
    while True:
        if is_person:
            first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
            name = f"{first} {last}"
            email = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}@mail.example"
        else:
            stem = rng.choice(_EN_STEMS)
            trade = rng.choice(_EN_TRADE[industry])
            suffix = "" if industry in ("Government", "Education") else " " + rng.choice(suffixes)
            name = f"{stem} {trade}{suffix}"
            email = f"it@{_slug(stem)}{_slug(trade)[:8]}.example"
        if name not in taken:
            return name, city, email, phone


def _chinese_identity(rng: random.Random, is_person: bool, industry: str, taken: set[str]) -> tuple[str, str, str, str]:
    """(name, city, email, phone) for a customer in mainland China."""
    city, area = rng.choice(_CN_CITIES)
    while True:
        if is_person:
            (sur, sur_py), (given, given_py) = rng.choice(_CN_SURNAMES), rng.choice(_CN_GIVEN)
            name = sur + given
            email = f"{sur_py}{given_py}{rng.randint(60, 99)}@mail.example.cn"
            phone = f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        else:
            stem, stem_py = rng.choice(_CN_STEMS)
            trade = rng.choice(_CN_TRADE[industry])
            name = f"{city}{stem}{trade}"
            if industry == "Government":
                name = f"{city}市{rng.choice(['高新区', '经开区', '滨江区', '新城区'])}{trade}"
            email = f"service@{stem_py}-{_CN_CITY_PINYIN[city]}.example.cn"
            phone = f"+86 {area[1:]} {rng.randint(5000, 8999)} {rng.randint(1000, 9999)}"
        if name not in taken:
            return name, city, email, phone


def _since(rng: random.Random, is_person: bool) -> date:
    start = date(2018, 1, 1) if is_person else date(2014, 1, 1)
    span = (date(2026, 6, 30) - start).days
    # more recent customers than old ones: the business grew
    return start + timedelta(days=int(span * rng.random() ** 0.7))


def build_customers(rng: random.Random, employees: list[Employee]) -> list[Customer]:
    """300 customers: a third in China (language zh), the rest across English-speaking markets."""
    managers_en = [e.uid for e in employees if e.team == "Account Management" and "en" in e.languages]
    managers_zh = [e.uid for e in employees if e.team == "Account Management" and "zh" in e.languages]
    countries = [c for c, (n, _, _) in _EN_MARKETS.items() for _ in range(n)]
    countries += ["China"] * N_CHINA
    rng.shuffle(countries)
    taken: set[str] = set()
    customers = []
    for n, country in enumerate(countries, start=1):
        is_person = rng.random() < 0.3
        industry = "Consumer" if is_person else rng.choices(_INDUSTRIES, _INDUSTRY_WEIGHTS)[0]
        if country == "China":
            name, city, email, phone = _chinese_identity(rng, is_person, industry, taken)
        else:
            name, city, email, phone = _english_identity(rng, country, is_person, industry, taken)
        taken.add(name)
        segment = _segment(rng, industry, is_person)
        cadence = SEGMENT_CADENCE[segment] * rng.lognormvariate(0, 0.35)
        since = _since(rng, is_person)
        stop = slowdown = None
        fate = rng.random()
        if fate < 0.17:
            stop = date(2025, 3, 1) + timedelta(days=rng.randint(0, 425))
        elif fate < 0.27:
            slowdown = date(2025, 4, 1) + timedelta(days=rng.randint(0, 300))
        owner = rng.choice(managers_zh if country == "China" else managers_en)
        customers.append(Customer(f"CUS-{n:04d}", name, industry, country, city, email, phone, since,
                                  "zh" if country == "China" else "en", segment, is_person, owner, cadence,
                                  stop, slowdown))
    return customers


# Mean days between orders per segment (tuned so the company has about 6,000 orders).
SEGMENT_CADENCE: dict[str, float] = {
    "SEG-ENTERPRISE": 21, "SEG-MIDMARKET": 39, "SEG-SMB": 68, "SEG-CONSUMER": 185, "SEG-PUBLIC": 43,
    "SEG-REGULATED": 34,
}
