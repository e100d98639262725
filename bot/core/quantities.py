"""Quantities in article text: GPU counts, power (MW) and money (pure, regex-based).

"50,000 Nvidia H100 GPUs" -> gpu_count 50000 "gpus"; "1.2 GW" / "300 megawatts" -> power in MW;
"$10 billion" / "US$2.5bn" -> money in USD; "€5bn" / "¥1 trillion" -> money in that currency.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from bot.models import Entity

__all__ = ["USD_RATES", "find_quantities", "usd_value"]

_MULT = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "bln": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "t": 1e12,
    "tr": 1e12,
}
# Loose on purpose (a simple leading \d keeps the regexes fast); _us_number validates the digits.
_NUM = r"(?P<num>\d[\d,]*(?:\.\d+)?)"
# The same from a number's first digit only. A match from a later digit would imply one from the
# first, which the scan tried before: the look-behind only spares the regex engine those retries.
_FIRST_NUM = r"(?P<num>\d(?<!\d\d)[\d,]*(?:\.\d+)?)"
_US_NUM = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_DOT_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_MULT_RE = r"(?P<mult>(?i:thousand|million|billion|trillion|mln|bln|mn|bn|tn|tr|[kmbt]))"

# GPU counts: a number, up to three qualifying words ("Nvidia", "H100", "more", "advanced"), then a
# unit. Qualifiers are capitalised/alphanumeric names or a short list of adjectives, so "5 years of
# GPUs" or "2 racks and 16 GPUs" do not produce a count from the wrong number.
_GPU_UNIT = (
    r"(?:GPUs?|graphics processing units|graphics cards|accelerators|AI chips|AI processors|chips|"
    r"processors|TPUs|NPUs|(?:[A-Z]{1,3}\d{1,4}[A-Z]?|Blackwells?|Hoppers?|Ascends?)s?\b)"
)
_GPU_FILLER = (
    r"(?:(?:[A-Z][\w'’-]*|[A-Za-z]*\d[\w-]*|more|additional|new|advanced|high-end|top-end|cutting-edge|"
    r"older|used|of|the|its|their|AI|such|Nvidia's|data-center|datacenter|state-of-the-art)\s+)"
)
_GPU_RE = re.compile(
    rf"{_FIRST_NUM}"
    rf"(?:\s*|-)(?:(?P<mult>thousand|million|k|m)\b\s*)?\+?(?:-plus)?\s+{_GPU_FILLER}{{0,3}}"
    rf"(?P<unit>{_GPU_UNIT})"
)
# European thousands separators ("50.000 GPUs") are read as thousands for counts only.
_EU_DECIMAL = re.compile(r"\d+,\d{1,2}")
_EURO_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+$")

_POWER_RE = re.compile(
    rf"{_FIRST_NUM}(?:\s*|-)(?P<unit>gigawatts?|megawatts?|kilowatts?|GW|MW|kW|Gigawatt|Megawatt)(?![\w])",
)

_CURRENCY_PREFIX = {
    "us$": "usd",
    "usd": "usd",
    "$": "usd",
    "€": "eur",
    "eur": "eur",
    "£": "gbp",
    "gbp": "gbp",
    "¥": "jpy",
    "jpy": "jpy",
    "cny": "cny",
    "rmb": "cny",
    "₩": "krw",
    "krw": "krw",
    "a$": "aud",
    "c$": "cad",
    "s$": "sgd",
    "hk$": "hkd",
    "nt$": "twd",
    "₹": "inr",
}
_CURRENCY_WORD = {
    "dollars": "usd",
    "dollar": "usd",
    "usd": "usd",
    "euros": "eur",
    "euro": "eur",
    "eur": "eur",
    "pounds": "gbp",
    "sterling": "gbp",
    "yen": "jpy",
    "yuan": "cny",
    "renminbi": "cny",
    "rmb": "cny",
    "cny": "cny",
    "won": "krw",
    "rupees": "inr",
    "dirhams": "aed",
    "riyals": "sar",
}
_SYMBOL = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cny": "CNY ", "krw": "₩"}
# Rough conversion for ranking importance only; never shown as a fact.
USD_RATES = {
    "usd": 1.0,
    "eur": 1.1,
    "gbp": 1.3,
    "jpy": 0.0067,
    "cny": 0.14,
    "krw": 0.00072,
    "aud": 0.65,
    "cad": 0.72,
    "sgd": 0.75,
    "hkd": 0.13,
    "twd": 0.031,
    "inr": 0.012,
    "aed": 0.27,
    "sar": 0.27,
    "ils": 0.27,
}
# Currency codes are matched as written (upper case); words after the number on lower-cased text
# (case-insensitive regexes are several times slower).
# A range ("$175-185B", "$175bn-$185bn", "US$10 to 12 billion") gives both ends the unit of the second.
_RANGE_TO = r"(?:-|–|—|to)"
_MONEY_PREFIX_RE = re.compile(
    r"(?P<cur>US\$|USD|HK\$|NT\$|A\$|C\$|S\$|\$|€|EUR|£|GBP|¥|JPY|CNY|RMB|₩|KRW|₹)\s?"
    rf"{_NUM}(?:\s*{_RANGE_TO}\s*(?:US\$|\$|€|£|¥)?(?P<num2>\d[\d,]*(?:\.\d+)?))?"
    rf"(?:\s*{_MULT_RE}(?![\w]|-(?![\d$€£¥]|plus)))?(?:\s+(?P<yuan>yuan))?",
)
_MULT_LOWER = r"(?P<mult>thousand|million|billion|trillion|mln|bln|mn|bn|tn|tr|[kmbt])"
_MONEY_WORD_RE = re.compile(
    r"(?P<lo>\d[\d,]*(?:\.\d+)?)(?:\s*(?:-|–|to|and)\s*(?P<num>\d[\d,]*(?:\.\d+)?))?"
    rf"\s*{_MULT_LOWER}\s+(?:(?:us|u\.s\.|hong kong|singapore|australian|canadian)\s+)?"
    r"(?P<cur>dollars?|euros?|pounds|sterling|yen|yuan|renminbi|rmb|cny|usd|eur|won|rupees|dirhams|riyals)\b",
)


# Other languages: "10.000 millones de dólares", "4,8 bilhões", "1,4 Milliarden Dollar", "700 millions de
# dollars"; "100亿美元", "300億円", "50억 달러"; "1 gigavatio", "2吉瓦"; "1万块GPU".
_EU_NUM = r"(?P<num>\d[\d.]*(?:,\d+)?)"
_EU_MULT = {
    "mil millones": 1e9,
    "millones": 1e6,
    "millions": 1e6,
    "millionen": 1e6,
    "milhões": 1e6,
    "mio.": 1e6,
    "mio": 1e6,
    "milliarden": 1e9,
    "milliards": 1e9,
    "bilhões": 1e9,
    "mrd.": 1e9,
    "mrd": 1e9,
    "milioni": 1e6,
    "miliardi": 1e9,
    "miljoen": 1e6,
    "miljard": 1e9,
    "miljoner": 1e6,
    "miljarder": 1e9,
    "millioner": 1e6,
    "milliarder": 1e9,
    "mln": 1e6,
    "mld": 1e9,
    "milionów": 1e6,
    "miliardów": 1e9,
    "miliardy": 1e9,
    "milyon": 1e6,  # Turkish
    "milyar": 1e9,
    "trilyon": 1e12,
    "juta": 1e6,  # Indonesian, Malay
    "miliar": 1e9,
    "triliun": 1e12,
}
_EU_CUR = {
    "dólares": "usd",
    "dollars": "usd",
    "dollar": "usd",
    "dollari": "usd",
    "dolarów": "usd",
    "dolar": "usd",
    "us-dollar": "usd",
    "euros": "eur",
    "euro": "eur",
}
_EU_MONEY_RE = re.compile(
    r"(?P<lo>\d[\d.]*(?:,\d+)?)(?:\s*(?:-|–|bis|à|a|y|e|et|und|tot|en|to)\s*(?P<num>\d[\d.]*(?:,\d+)?))?"
    r"\s*(?P<mult>mil millones|millones|millions|millionen|milhões|mio\.?|milliarden|milliards|bilhões|"
    r"mrd\.?|milioni|miliardi|miljoen|miljard|miljoner|miljarder|millioner|milliarder|mln|mld|milionów|"
    r"miliardów|miliardy|milyon|milyar|trilyon|juta|miliar|triliun)"
    r"(?:\s+(?:de\s+|di\s+)?(?P<cur>dólares|dollars|dollari|dollar|dolarów|dolar|"
    r"us-dollar|euros?))?"
)
# Hebrew writes digits the English way ("2.5 מיליארד דולר", "220 מיליון דולר"), words after them.
_HE_MULT = {"מיליון": 1e6, "מיליארד": 1e9}
_HE_CUR = {"דולר": "usd", "אירו": "eur", 'ש"ח': "ils", "שקל": "ils", "שקלים": "ils"}
_HE_MONEY_RE = re.compile(rf"{_NUM}\s*(?P<mult>מיליארד|מיליון)\s+(?P<cur>דולר|אירו|ש\"ח|שקלים|שקל)")
_CJK_MULT = {
    "亿": 1e8, "億": 1e8, "万": 1e4, "萬": 1e4, "억": 1e8, "만": 1e4, "兆": 1e12, "조": 1e12,
    "万亿": 1e12, "萬億": 1e12,
}  # fmt: skip
_CJK_CUR = {
    "美元": "usd",
    "ドル": "usd",
    "달러": "usd",
    "欧元": "eur",
    "ユーロ": "eur",
    "円": "jpy",
    "日元": "jpy",
    "日圆": "jpy",
    "日圓": "jpy",
    "歐元": "eur",
    "元": "cny",
    "人民币": "cny",
    "원": "krw",
}
_CJK_MONEY_RE = re.compile(
    r"(?P<lo>\d[\d,]*(?:\.\d+)?)\s*(?P<lomult>万亿|萬億|[亿億万萬억만兆조])?\s*"
    # The rest of a compound amount: 1兆1000億円, 3조2000억 원, 6億1200万ドル, 1兆2000億5000万円.
    r"(?:(?<=[兆조億亿억])\s*(?P<rest>\d[\d,]*)\s*(?P<restmult>[亿億万萬억만])\s*)?"
    r"(?:(?<=[億亿억])\s*(?P<rest2>\d[\d,]*)\s*(?P<restmult2>[万萬만])\s*)?"
    r"(?:(?:-|~|～|〜|至|到|から)\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<mult>万亿|萬億|[亿億万萬억만兆조])\s*)?"
    r"(?P<cur>美元|ドル|달러|欧元|歐元|ユーロ|日元|日圆|日圓|円|人民币|元|원)"
)
_OTHER_POWER_RE = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?:(?P<mult>[万萬만])(?P<rest>\d{1,4})?)?\s*(?P<unit>gigavatios?|gigawatts?|gigawatt|吉瓦|"
    r"ギガワット|기가와트|megavatios?|兆瓦|メガワット|메가와트|千瓦|キロワット|킬로와트|kilovatios?)"
)
_GIGA_UNITS = frozenset({"吉瓦", "ギガワット", "기가와트"})
_KILO_UNITS = frozenset({"千瓦", "キロワット", "킬로와트"})
_CJK_GPU_RE = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<mult>万|萬|만)?\s*(?:块|張|张|基|枚|개|台|颗)?\s*[の的]?\s*(?:GPU|TPU|显卡|加速器|AI芯片|芯片|H100|H20)"
)


# Cheap substring tests before each regex pass: every match of the regex contains one of these.
_POWER_HINTS = ("watt", "GW", "MW", "kW")
_CURRENCY_HINTS = ("$", "€", "£", "¥", "₩", "₹", "USD", "EUR", "GBP", "JPY", "CNY", "RMB", "KRW")
_CURRENCY_WORD_HINTS = (
    "dollar", "eur", "pound", "sterling", "yen", "yuan", "renminbi", "rmb", "cny", "usd", "won", "rupee",
    "dirham", "riyal",
)  # fmt: skip
_CJK_GPU_HINTS = ("GPU", "TPU", "显卡", "加速器", "芯片", "H100", "H20")
_OTHER_POWER_HINTS = ("vatio", "gigawatt", "瓦", "ワット", "와트")


def _has_any(text: str, hints: Iterable[str]) -> bool:
    return any(hint in text for hint in hints)


def _starts_clean(text: str, start: int, extra: str = ".,$€£¥") -> bool:
    """True when the number at `start` is not glued to a word or another number. Checked in code, not
    with a lookbehind, so each regex starts with a digit and the regex engine can skip ahead fast."""
    if start == 0:
        return True
    before = text[start - 1]
    return not (before.isalnum() or before == "_" or before in extra)


def _eu_prefix(text: str, start: int) -> str | None:
    head = text[max(0, start - 4) : start].rstrip()
    for symbol, cur in (("us$", "usd"), ("r$", "brl"), ("$", "usd"), ("€", "eur")):
        if head.endswith(symbol):
            return None if symbol == "r$" else cur
    return None


def _eu_number(raw: str) -> float:
    """A number written the continental way ("1.200", "2,4"); NaN when it is not one ("1,2,3")."""
    try:
        return float(raw.replace(".", "").replace(",", "."))
    except ValueError:
        return math.nan


def _other_languages(text: str, lower: str) -> list[Entity]:
    out: list[Entity] = []
    if any(
        w in lower
        for w in (
            *("millones", "millions de", "millionen", "milhõ", "milliard", "bilhõ", "mio", "mrd"),
            *("milion", "miliard", "miljo", "miljar", "millioner", "mln", "mld"),
            *("milyon", "milyar", "trilyon", "juta", "miliar", "triliun"),
        )
    ):
        bare: list[float] = []  # "höchstens 165 Milliarden": the currency is the article's
        currencies: set[str] = set()
        for m in _EU_MONEY_RE.finditer(lower):
            if not _starts_clean(lower, m.start(), ".,"):
                continue
            mult = _EU_MULT[m.group("mult")]
            values = _range_values(*_ends(m), mult, _eu_number)
            cur = _EU_CUR.get(m.group("cur") or "") or _eu_prefix(lower, m.start())
            if cur is None:
                bare.extend(values)
                continue
            currencies.add(cur)
            out.extend(_money_entity(cur, value) for value in values if value >= 1e6)
        if len(currencies) == 1:
            cur = next(iter(currencies))
            out.extend(_money_entity(cur, value) for value in bare if value >= 1e6)
    other_power = ("vatio" in lower or not lower.isascii()) and _has_any(lower, _OTHER_POWER_HINTS)
    for m in _OTHER_POWER_RE.finditer(lower) if other_power else ():
        if m.start() and lower[m.start() - 1] in "0123456789.,":
            continue  # the tail of a longer number ("21.76.5"); CJK text glues numbers to words
        raw = m.group("num")
        value = _number(raw)
        if math.isnan(value):
            value = _eu_number(raw)  # "1,2 gigavatios"
        if math.isnan(value):
            continue
        if m.group("mult"):
            value = value * _CJK_MULT[m.group("mult")] + float(m.group("rest") or 0)  # "34万5000"
        unit = m.group("unit")
        if unit in _KILO_UNITS or unit.startswith("kilo"):
            # "30万キロワット" is 300 MW; small kilowatt figures (a rack, a home) are not shown.
            out.extend(_power_entity(value / 1000, giga=False) if value >= 1000 else ())
            continue
        giga = unit.startswith("giga") or unit in _GIGA_UNITS
        if m.group("mult"):
            out.extend(_power_entity(value * 1000 if giga else value, giga=False))
        else:
            out.extend(_power_entity(value, giga=giga))
    if text.isascii():
        return out
    for m in _CJK_MONEY_RE.finditer(text) if _has_any(text, _CJK_CUR) else ():
        cur = _CJK_CUR[m.group("cur")]
        lo, num, lomult, mult_char = m.group("lo", "num", "lomult", "mult")
        if num is None:
            if lomult is None:
                continue  # "300元" without a multiplier is small change
            values = [float(lo.replace(",", "")) * _CJK_MULT[lomult]]
            for rest, rest_mult in (m.group("rest", "restmult"), m.group("rest2", "restmult2")):
                if rest is not None:
                    values[0] += float(rest.replace(",", "")) * _CJK_MULT[rest_mult]
        else:
            mult = _CJK_MULT[mult_char]
            values = [float(num.replace(",", "")) * mult]
            low = float(lo.replace(",", "")) * _CJK_MULT.get(lomult or "", mult)
            if values[0] / 20 <= low < values[0]:
                values.insert(0, low)
        out.extend(_money_entity(cur, value) for value in values if value >= 1e6)
    for m in _HE_MONEY_RE.finditer(text) if "מילי" in text else ():
        if _starts_clean(text, m.start(), ".,"):
            value = _number(m.group("num")) * _HE_MULT[m.group("mult")]
            if value >= 1e6:  # NaN (digits grouped otherwise) fails this too
                out.append(_money_entity(_HE_CUR[m.group("cur")], value))
    for m in _CJK_GPU_RE.finditer(text) if _has_any(text, _CJK_GPU_HINTS) else ():
        value = float(m.group("num")) * (_CJK_MULT[m.group("mult")] if m.group("mult") else 1)
        if 100 <= value <= 1e8:
            out.append(
                Entity(name=f"{int(value):,} GPUs", type="gpu_count", value=float(int(value)), unit="gpus")
            )
    return out


def _ends(m: re.Match[str]) -> tuple[str | None, str]:
    """(low, high) of a range match whose high end is optional: "185" alone is (None, "185")."""
    lo, num = m.group("lo", "num")
    return (lo, num) if num is not None else (None, lo)


def _range_values(low: str | None, high: str, mult: float, parse: Callable[[str], float]) -> list[float]:
    """Both ends of "175 bis 185 Milliarden" with the unit written once; a "low" end that is not a
    plausible range start (a year, a larger number) is ignored."""
    top = parse(high) * mult
    if math.isnan(top):
        return []
    if not low:
        return [top]
    try:
        bottom = parse(low) * mult
    except ValueError:
        return [top]
    return [bottom, top] if top / 20 <= bottom < top else [top]


def _money_entity(cur: str, value: float) -> Entity:
    return Entity(name=_money_name(cur, value), type="money", value=value, unit=cur)


def _power_entity(value: float, *, giga: bool) -> list[Entity]:
    mw = value * 1000 if giga else value
    if not 0 < mw <= 1e6:
        return []
    name = f"{_fmt(value)} GW" if giga else f"{_fmt(value)} MW"
    return [Entity(name=name, type="power", value=mw, unit="mw")]


def _number(raw: str) -> float:
    """A number written the English way ("12,000.5"); NaN when the digits are grouped otherwise."""
    if not _US_NUM.fullmatch(raw):
        return math.nan
    return float(raw.replace(",", ""))


def _fmt(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _money_name(currency: str, value: float) -> str:
    symbol = _SYMBOL.get(currency, currency.upper() + " ")
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if value >= size:
            return f"{symbol}{_fmt(value / size)}{suffix}"
    return f"{symbol}{_fmt(value)}"


def usd_value(entity: Entity) -> float:
    """An approximate USD value of a money entity (for ranking); 0 when unknown."""
    if entity.type != "money" or entity.value is None:
        return 0.0
    return entity.value * USD_RATES.get(entity.unit or "", 0.0)


def _gpu_counts(text: str) -> list[Entity]:
    out = []
    for m in _GPU_RE.finditer(text):
        if not _starts_clean(text, m.start()):
            continue
        raw = m.group("num")
        value = float(raw.replace(".", "")) if _EURO_THOUSANDS.match(raw) else _number(raw)
        if math.isnan(value):
            continue
        mult = (m.group("mult") or "").lower()
        if mult:
            value *= _MULT[mult]
        elif "," not in raw and 1990 <= value <= 2040:
            continue  # a year ("2025 Nvidia GPUs"), not a count
        if value < 100 or value > 1e8:
            continue
        out.append(
            Entity(name=f"{int(value):,} GPUs", type="gpu_count", value=float(int(value)), unit="gpus")
        )
    return out


def _power(text: str) -> list[Entity]:
    out = []
    for m in _POWER_RE.finditer(text) if _has_any(text, _POWER_HINTS) else ():
        if not _starts_clean(text, m.start(), "."):
            continue
        raw = m.group("num")
        value = _number(raw)
        if math.isnan(value) and _EU_DECIMAL.fullmatch(raw):
            value = float(raw.replace(",", "."))  # "4,8 GW"
        if math.isnan(value):
            continue
        unit = m.group("unit").lower()
        if unit.startswith("m") and _DOT_GROUPED.fullmatch(raw):
            # "1.200 MW" is 1,200 MW written the European way: a site of 1.2 MW would say "1.2 MW".
            value = float(raw.replace(".", ""))
        if unit.startswith("k"):
            if value >= 1000:  # "300,000 kilowatts"; a rack's kilowatts are not a site's power
                out.extend(_power_entity(value / 1000, giga=False))
            continue
        giga = unit.startswith("g")
        mw = value * 1000 if giga else value
        if mw <= 0 or mw > 1e6:
            continue
        name = f"{_fmt(value)} GW" if giga else f"{_fmt(value)} MW"
        out.append(Entity(name=name, type="power", value=mw, unit="mw"))
    return out


def _money(text: str, lower: str) -> list[Entity]:
    out: list[Entity] = []
    for m in _MONEY_PREFIX_RE.finditer(text) if _has_any(text, _CURRENCY_HINTS) else ():
        if not _starts_clean(text, m.start(), ""):
            continue
        cur = _CURRENCY_PREFIX.get(m.group("cur").lower(), "usd")
        if cur == "jpy" and m.group("yuan"):
            cur = "cny"
        mult_word = (m.group("mult") or "").lower()
        mult = _MULT[mult_word] if mult_word else 1.0
        if m.group("num2"):
            values = _range_values(m.group("num"), m.group("num2"), mult, _number)
        else:
            values = [_number(m.group("num")) * mult]
        out.extend(_money_entity(cur, value) for value in values if value >= 1e6)
    for m in _MONEY_WORD_RE.finditer(lower) if _has_any(lower, _CURRENCY_WORD_HINTS) else ():
        if not _starts_clean(lower, m.start()):
            continue
        cur = _CURRENCY_WORD.get(m.group("cur").lower(), "usd")
        values = _range_values(*_ends(m), _MULT[m.group("mult").lower()], _number)
        out.extend(_money_entity(cur, value) for value in values if value >= 1e6)
    return out


def find_quantities(text: str) -> list[Entity]:
    """GPU counts, power and money figures in `text`, each distinct figure once, in text order
    per kind (GPU counts, then power, then money)."""
    seen: set[tuple[str, float, str | None]] = set()
    out: list[Entity] = []
    lower = text.lower()
    for entity in (*_gpu_counts(text), *_power(text), *_money(text, lower), *_other_languages(text, lower)):
        key = (entity.type, entity.value or 0.0, entity.unit)
        if key in seen:
            continue
        seen.add(key)
        out.append(entity)
    return out
