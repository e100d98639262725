"""Which story an article belongs to: the same event from several outlets is one story (pure).

An article becomes a bag of weighted terms that emphasise the *event*: title and lead sentences weigh
most; exact figures ("50,000 GPUs", "$10B", "1.2 GW") become their own strong terms; event types
(launch, earnings, restriction, withdrawal, ...) become terms too and can block a merge. Term weights
are scaled by an IDF learned incrementally from everything the index has seen, so a company named in
every story of the day is weak evidence while a rare place or figure is strong.

`StoryIndex.assign` never compares against all stories: an inverted index (term -> story ids) yields a
handful of candidates sharing rare terms, restricted to a time window around the article, and only
those are scored. Cost per article is bounded by the posting caps, not by how many articles are stored.

Across languages only names, figures and dates can agree (an article in German shares "Nscale",
"$1.4 billion" and "Series C" with the English wire, not its prose), so those language-neutral terms
form a second vector: within one language it is blended with the prose, across languages it decides.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain, islice
from operator import itemgetter
from typing import Any, cast

from bot.models import Article, Entity, Triage

# -- tunables (why: chosen on our own labelled sets; see tests/core/test_story_quality.py) ----------

TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 2.0
BODY_WEIGHT = 1.0
LEAD_SENTENCES = 2  # sentences after the title that count as the lead
BODY_CHARS = 2500  # later text rarely names the event better and costs time
FIGURE_BOOST = 1.5  # an exact figure is stronger evidence than a word
DATE_BOOST = 1.5  # an explicit event date (effective, announced): as strong as an amount
EVENT_TERM_WEIGHT = 1.0
NAME_BOOST = 1.8
CJK_WEIGHT = 0.5  # per character bigram
ENTITY_WEIGHT = 2.0
ENTITY_BODY_WEIGHT = 0.5
ENGLISH_SHARE = 0.12  # share of English function words above which a text counts as English
NEUTRAL_MIX = 0.5  # weight of the names-and-figures cosine within one language
NEUTRAL_THRESHOLD = 0.16  # cosine over names and figures only, used across languages
MERGE_THRESHOLD = 0.25  # blended cosine (prose and names/figures) needed to join a story
SURE_THRESHOLD = 0.85  # near-identical copy: merge even across an event-type conflict
STORY_TERMS = 90  # terms kept per story centroid
QUERY_KEYS = 14  # an article's rarest terms used to find candidate stories
MAX_POSTING = 300  # posting lists longer than this name nothing specific: skip them
RECENT_POSTINGS = 60  # of the others, only the newest stories are candidates
MAX_CANDIDATES = 12
MAX_NEW_FACTS = 6
# An article that joins two stories about equally well (the weaker score at least this share of
# the stronger) is a report of both: they were one event, and are merged. One that matches a
# second story far more weakly only mentions it (a rival's funding round named in passing).
BRIDGE_SHARE = 0.65

# Event types. A story is one event; an article whose lead names a different kind of event
# (a rule withdrawn vs the rule announced, earnings vs a launch) belongs to a different story.
EVENT_PATTERNS: dict[str, tuple[str, ...]] = {
    "launch": (r"launch\w*", r"unveil\w*", r"introduc\w*", r"debut\w*", r"rolls? out", r"rolled out",
               r"releas\w*", r"announc\w* (?:a |its )?new"),
    "earnings": (r"earnings", r"(?<!tax )revenues?", r"quarterly (?:results|sales|profit)", r"profits?",
                 r"net income", r"fiscal (?:year|quarter)",
                 r"(?:first|second|third|fourth)[- ]quarter (?:results|sales|profit)",
                 r"sales (?:rose|fell|jumped|grew)"),
    "restrict": (r"bans?", r"banned", r"banning", r"restrict\w*", r"export controls?", r"export rules?",
                 r"curbs?", r"curbed", r"blacklist\w*", r"entity list", r"licen[cs]e requirements?",
                 r"requir\w* (?:an? )?(?:export )?licen[cs]es?", r"sanction\w*", r"prohibit\w*",
                 r"caps? (?:on )?(?:exports?|shipments?|sales)"),
    "withdraw": (r"withdr[ae]w\w*", r"rescind\w*", r"revok\w*", r"repeal\w*", r"scrap\w*", r"rolls? back",
                 r"rolled back", r"reversal", r"revers\w*",
                 r"lift(?:s|ed)? (?:the |a |its )?(?:ban|rule|restriction|curb)\w*"),
    "acquire": (r"acqui\w*", r"merger\w*", r"takeover\w*", r"to buy \w+ (?:for|in a)", r"buyout"),
    "funding": (r"funding", r"raises?", r"raised", r"series [a-f]\b", r"valuation", r"investment round",
                r"invest\w*"),
    "build": (r"build\w*", r"construct\w*", r"campus\w*", r"break(?:s)? ground", r"groundbreaking",
              r"new (?:data cent\w+|facility|site)"),
    "delay": (r"delay\w*", r"postpon\w*", r"paus(?:e[sd]?|ing)", r"moratori(?:um|a)", r"push(?:es|ed)? back",
              r"behind schedule", r"setback\w*",
              r"slip(?:s|ped|ping)?", r"stall\w*", r"held up", r"holds? up"),
    "lawsuit": (r"lawsuit\w*", r"sue[sd]?", r"suing", r"court", r"antitrust", r"indict\w*", r"charged with",
                r"fined", r"probe\w*"),
    "partnership": (r"partner\w*", r"deal\w*", r"agreement\w*", r"contract\w*", r"alliance\w*",
                    r"collaborat\w*", r"teams? up"),
    "hire": (r"hir(?:e|es|ed|ing)", r"recruit\w*", r"job (?:ads?|postings?|listings?)", r"talent"),
    "smuggle": (r"smuggl\w*", r"black market", r"gr[ae]y market", r"illegal\w*", r"divert\w*", r"diversion"),
    "shortage": (r"shortages?", r"scarcit\w*", r"short supply", r"supply crunch"),
    "outage": (r"outages?", r"went down", r"disruption\w*"),
    "layoff": (r"layoffs?", r"lay(?:s|ing)? off", r"job cuts", r"cuts? jobs"),
}
# Multi-word patterns, found in one pass: each kind is a named group of one alternation. Single
# words are looked up per distinct word instead (see _word_events), which is much cheaper.
def _is_phrase(alt: str) -> bool:
    return " " in alt or "\\b" in alt


_PHRASES = {name: [a for a in alts if _is_phrase(a)] for name, alts in EVENT_PATTERNS.items()}
# One small pattern per phrase, tried only where its literal text occurs: several times faster than
# one alternation of every phrase.
def _literal(pattern: str) -> str:
    """The longest literal text every match of `pattern` contains: a run of plain characters outside
    groups and classes, none of them optional ("" when there is none or the pattern is a choice).
    Enough for the simple patterns above (no escaped brackets, no "]" first in a class)."""
    runs = [""]
    depth = i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":  # a class (\w) or an assertion (\b)
            runs.append("")
            i += 2
            continue
        if char in "[{":  # a class, or a count of repeats
            runs.append("")
            i = pattern.index("]" if char == "[" else "}", i) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return ""
        if depth or char in "()?*+.^$" or pattern[i + 1 : i + 2] in ("?", "*", "+", "{"):
            runs.append("")
        else:
            runs[-1] += char
        i += 1
    return max(runs, key=len)


# (kind, literal every match contains, pattern): the substring test is far cheaper than a regex call.
_PHRASE_PATTERNS = [
    (name, _literal(alt), re.compile(alt + r"\b")) for name, alts in _PHRASES.items() for alt in alts
]
_SINGLE_WORD_EVENTS = {
    name: re.compile("|".join(alt for alt in alts if not _is_phrase(alt)))
    for name, alts in EVENT_PATTERNS.items()
}
# Kinds of event that are almost never reported without naming them: when one side's lead names one
# and the other side never mentions it, they are different events.
MARKER_EVENTS = frozenset({"withdraw", "earnings", "delay", "lawsuit", "acquire", "layoff"})
# Looser words that still *mention* such an event. A lead must name the event plainly to claim it,
# but any of these anywhere in a report is enough to deny a conflict ("beat and raise", "on the call").
MENTION_WORDS: dict[str, frozenset[str]] = {
    "earnings": frozenset(
        """quarter quarterly fiscal guidance forecast beat beats outlook results sales margin margins
        call eps shareholders""".split()
    ),
    "withdraw": frozenset(
        "withdraws withdrew withdrawn rescinds rescinded reverses reversed drops dropped".split()
    ),
    "delay": frozenset("delays delayed slips slipped later postponed pushed".split()),
    "acquire": frozenset("buy buys bought deal purchase purchases takeover merger".split()),
    "lawsuit": frozenset("suit sues sued court judge complaint filed filing".split()),
    "layoff": frozenset("layoffs cuts jobs staff workforce".split()),
}

STOPWORDS = frozenset(
    """a about above after again against all also although am among an and any are around as at be
    because been before being below between both but by can could did do does doing down during each
    either even ever every few for from further had has have having he her here hers him his how however
    i if in into is it its itself just last least less like made make makes many may me might more most
    much must my near nearly new next no nor not now of off on once one only or other our out over own
    per said same say says she should since so some still such than that the their theirs them then
    there these they this those though three through to too two under until up upon us very via was we
    were what when where whether which while who whom whose why will with within without would year
    years yet you your according week weeks month months day days today yesterday monday tuesday
    wednesday thursday friday saturday sunday reported report reports reportedly told tell company
    companies firm firms people percent including include includes time first well according based
    another already around back big came come comes get gets got going including largest latest
    major part recent recently set several show shows since take takes taken use used uses using way
    another inc ltd corp co llc plc
    january february march april may june july august september october november december jan feb mar
    apr jun jul aug sep sept oct nov dec""".split()
)

ENGLISH_MARKERS = frozenset(
    "the of and to in is for on that with as by at from it its was are has have will said this be".split()
)
# Function words that tell the other languages outlets write in apart from each other (only what
# a story needs: whether two reports share a language, so prose can be compared, or not, so only
# names and figures can). Scripts other than Latin tell themselves apart (see _language).
LANGUAGE_MARKERS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "de": "der die das und ist nicht mit von zu den für auf dem des sich eine wird werden auch nach",
        "fr": "le la les et est des du une pour dans qui sur pas au aux ces cette été avec selon",
        "es": "el los las del y es por para con una que se su al más como fue según este",
        "pt": "o os do da dos das e é em um uma com não para pelo pela mais ao foi são",
        "it": "il lo gli della delle che di è per con non una sono nel nella anche alla dei",
        "nl": "het een en van is dat op te voor met niet zijn ook naar bij wordt worden",
        "pl": "i w z na się że do nie jest to od po przez oraz dla jak ten który",
        "sv": "och att det som är på för med av till den inte har ett om kan",
        "tr": "ve bir bu için ile olarak da de daha çok gibi olan",
        "id": "dan yang di ini untuk dengan dari itu pada dalam akan tidak",
    }.items()
}
# function word -> the languages it marks (some, like "de" or "para", mark several)
_MARKER_LANGUAGES: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, markers in LANGUAGE_MARKERS.items() if word in markers)
    for word in frozenset().union(*LANGUAGE_MARKERS.values())
}
_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
_SCRIPTS = (
    ("cyrl", re.compile("[\u0400-\u04ff]")),
    ("el", re.compile("[\u0370-\u03ff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("he", re.compile("[\u0590-\u05ff]")),
    ("hi", re.compile("[\u0900-\u097f]")),
    ("th", re.compile("[\u0e00-\u0e7f]")),
)
# Any character of the scripts above: most texts have none, and one search rules them all out.
_NON_LATIN_SCRIPT = re.compile(
    "[\u3040-\u30ff\uac00-\ud7af\u3400-\u4dbf\u4e00-\u9fff"
    "\u0400-\u04ff\u0370-\u03ff\u0600-\u06ff\u0590-\u05ff\u0900-\u097f\u0e00-\u0e7f]"
)
# Function words of the other languages outlets write in, so they never look like rare evidence.
STOPWORDS = STOPWORDS | frozenset(
    """der die das den dem des ein eine einer eines einem und oder aber mit von zu zum zur auf für über
    unter nach bei aus als auch sich nicht ist sind war wird werden wurde hat haben sein seine ihre im
    ins am um wie dass bis vor noch nur mehr schon so sie er es wir man dieser diese dieses laut rund
    le la les un une des du de et ou mais avec pour par sur dans au aux en est sont été sera ont avait
    qui que ce cette ces son sa ses leur leurs plus pas ne il elle ils selon entre après lors comme
    el los las unos unas del y o pero con para por sobre en es son fue será han ha que su sus más
    se lo al como según entre tras desde este esta estos estas
    o os as um uma dos das do da no na nos nas em é são foi será tem têm com para por pelo pela
    mais que seu sua seus suas ao à como segundo entre após este esta
    il lo gli della delle dei di e che per con su nel nella è sono""".split()
)

# Words common in any news (and in AI-infrastructure news in particular). They still count, but the
# index starts out believing they appear in many articles, so a small batch cannot mistake them for
# rare evidence. Real frequencies learned from the stream take over as articles arrive.
COMMON_WORDS = frozenset(
    """ai artificial intelligence chip chips semiconductor gpu gpus data center centers centre model
    models technology tech industry market markets compute computing cloud infrastructure capacity
    power energy demand supply global world china chinese us u.s american united states government
    official officials source sources analyst analysts executive executives ceo business billion million
    growth plan plans deal cost costs price prices investor investors share shares stock stocks revenue
    percent high higher low lower large small advanced advance develop development developer developers
    product products service services customer customers system systems network software hardware
    launch support access need needs help key important significant strategy strategic future current
    increase increasing increased continue continues continued amid concern concerns question questions
    new news statement announcement expect expected could likely potential possible open run running
    build built building work working team group operation operations international national local
    state federal country countries region regional race competition competitive competitor rival
    rivals leading leader leaders lead top level move moves effort efforts use able ability result
    result impact impacts risk risks issue issues challenge challenges major meanwhile despite
    nvidia amd intel microsoft google amazon meta openai tsmc samsung huawei apple""".split()
)
PRIOR_DOCS = 20.0  # the size of the imagined background the prior stands for
PRIOR_COMMON_SHARE = 0.35
IDF_REFRESH = 0.02
IDF_FLOOR = 0.0  # added to every IDF; 0 lets a word found in every article count for ~nothing

# Words: runs of letters/digits outside the CJK blocks; CJK runs become character bigrams.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f"
# (Word characters, then apostrophe-joined parts: the same matches as one alternation per character,
# without the per-character branching.)
_TOKEN = re.compile(rf"[^\W_{_CJK}][^\W{_CJK}]*(?:['’][^\W_{_CJK}][^\W{_CJK}]*)*|[{_CJK}]+")
# _TOKEN's matches in ASCII text, where the Unicode classes come down to [A-Za-z0-9_]: classes of
# ranges are checked against a bitmap and let the regex engine skip to word starts (twice as fast).
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*(?:'[A-Za-z0-9][A-Za-z0-9_]*)*")
_CJK_RUN = re.compile(rf"[{_CJK}]")
_HAS_DIGIT = re.compile(r"\d")
_UNIT_TOKEN = re.compile(r"\d+(?:[.,]\d+)?[a-z]{1,3}")  # "9b", "4nm", "5x": the figure already counts
_HIRAGANA_PAIR = re.compile("[\u3040-\u309f]{2}")
_CJK_FUNCTION = re.compile("[的了是在和与及等也而将对为于从由这那其之・、。「」（）]")
# A whitespace run after a sentence end (optionally behind a closing quote), or one holding a line
# break. Written to start with the whitespace itself so the regex engine can skip to candidates.
_SENTENCE_END = re.compile(r"\s(?:(?<=[.!?。！？]\s)|(?<=[.!?。！？][\"'”’)]\s)|(?<=\n)|(?=\s*\n))\s*")
# A number, by its digits after the first one (the first is matched separately in _NUM, so the
# pattern starts with a digit and the engine skips straight to digits).
_NUMBER_REST = (
    r"\d{0,2}(?:,\d{3})+(?:\.\d+)?"  # 1,400 or 1,400.5
    r"|\d{0,2}(?:[ \u00a0\u202f]\d{3})+(?![\d,.])"  # 100 000 (French, space-grouped)
    r"|\d{0,2}(?:\.\d{3})+(?![\d,])"  # 30.000 (German thousands)
    r"|\d*,\d{1,2}(?![\d])"  # 9,7 (decimal comma)
    r"|\d*(?:\.\d+)?"
)
_MAGNITUDE = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "millionen": 1e6,
    "mio": 1e6,
    "millones": 1e6,
    "milhões": 1e6,
    "milhão": 1e6,
    "milioni": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "milliarde": 1e9,
    "milliarden": 1e9,
    "mrd": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "mil millones": 1e9,
    "bilhões": 1e9,
    "bilhão": 1e9,
    "miliardi": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "billionen": 1e12,
    "billones": 1e12,
    "trilhões": 1e12,
    "tn": 1e12,
    "t": 1e12,
    "miljoner": 1e6,
    "millioner": 1e6,
    "miljoen": 1e6,
    "mln": 1e6,
    "milionów": 1e6,
    "miljarder": 1e9,
    "milliarder": 1e9,
    "miljard": 1e9,
    "mld": 1e9,
    "miliardów": 1e9,
    "miliardy": 1e9,
    "milyon": 1e6,
    "milyar": 1e9,
    "trilyon": 1e12,
    "juta": 1e6,
    "miliar": 1e9,
    "triliun": 1e12,
    "万": 1e4,
    "萬": 1e4,
    "億": 1e8,
    "亿": 1e8,
    "万亿": 1e12,
    "萬億": 1e12,
    "兆": 1e12,
    "억": 1e8,
    "조": 1e12,
    "만": 1e4,
    # Magnitude words of other scripts, and Vietnamese (_MAG's second group, read without a
    # word boundary after them).
    "nghìn": 1e3,
    "ngàn": 1e3,
    "triệu": 1e6,
    "tỷ": 1e9,
    "tỉ": 1e9,
    "ألف": 1e3,
    "مليون": 1e6,
    "مليار": 1e9,
    "میلیون": 1e6,
    "میلیارد": 1e9,
    "מיליון": 1e6,
    "מיליארד": 1e9,
    "тыс": 1e3,
    "млн": 1e6,
    "млрд": 1e9,
    "миллион": 1e6,
    "миллиона": 1e6,
    "миллионов": 1e6,
    "миллиард": 1e9,
    "миллиарда": 1e9,
    "миллиардов": 1e9,
    "लाख": 1e5,
    "करोड़": 1e7,
    "करोड": 1e7,
    "अरब": 1e9,
    "লাখ": 1e5,
    "কোটি": 1e7,
    "ล้าน": 1e6,
    "แสนล้าน": 1e11,
}
_ENGLISH_MAGNITUDES = frozenset(
    ("thousand", "million", "millions", "billion", "trillion", "mn", "bn", "tn", "k", "m", "b", "t")
)
# An amount written in parts, each magnitude followed by the next lower one: "3조2000억원",
# "1兆2000億円", "6億1200万ドル", "34万5000ボルト" (the last part bare).
_TO_OKU = re.compile(r"\s?(\d[\d,]*)\s?[億亿억]")
_TO_MAN = re.compile(r"\s?(\d[\d,]*)\s?[万萬만]")
_TO_ONES = re.compile(r"(\d{1,4})(?![\d.,])")
_CJK_NEXT: dict[str, tuple[re.Pattern[str], float]] = {
    **dict.fromkeys(("兆", "조", "万亿", "萬億"), (_TO_OKU, 1e8)),
    **dict.fromkeys(("億", "亿", "억"), (_TO_MAN, 1e4)),
    **dict.fromkeys(("万", "萬", "만"), (_TO_ONES, 1.0)),
}
# Figures are found in one pass over the numbers; units are read from the text right after each.
_NUMBER_WORDS = {
    "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
    "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "half a": 0.5, "a half": 0.5,
}
# A number not glued to a word or another number (the look-behind sits after the first digit).
_NUM = re.compile(r"(\d(?<![A-Za-z0-9_.,\u00c0-\u024f]\d)(?:" + _NUMBER_REST + r"))(?![\d])")
# A number word directly before a magnitude or power unit ("one million", "a gigawatt"): the units
# are found first, then the word that ends right before each (much cheaper than trying the number
# words at every word boundary).
_MAG_WORD = re.compile(r"\s+(?:thousand|million|billion|trillion|gigawatts?|megawatts?)\b", re.IGNORECASE)
_NUM_WORD_END = re.compile(
    r"\b(half an?|an?|one|two|three|four|five|six|seven|eight|nine|ten)$", re.IGNORECASE
)
_NUM_WORD_SPAN = len("half an")
_WORDY_PARTS = ("illion", "thousand", "gigawatt", "megawatt")
_WORDY = re.compile("|".join(_WORDY_PARTS), re.IGNORECASE)
_MAG_WORD_LOWER = re.compile(r"(?:thousand|million|billion|trillion|gigawatts?|megawatts?)\b")
_CURRENCY = re.compile(r"(?:(?:US|A|C|HK|S|R)?\$|€|£|¥|\b(?:USD|EUR|KRW|JPY|CNY|RMB|GBP|INR|SEK))\s?$")
_MAG = re.compile(
    r"\s?(thousand|millions?|millionen|mio|millones|milh(?:ões|ão)|milioni|mn|billion|milliarden?|mrd"
    r"|milliards?|mil millones|bilh(?:ões|ão)|miliardi|bn|trillion|billionen|billones|trilhões|tn|k|m|b|t"
    r"|miljoner|millioner|miljoen|mln|milionów|miljarder|milliarder|miljard|mld|miliardów|miliardy"
    r"|milyon|milyar|trilyon|juta|miliar|triliun"
    r")\b\.?|\s?(万亿|萬億|[万萬億亿兆억조만]"
    # Magnitude words of other scripts, and Vietnamese: a word boundary after them is not reliable
    # (Thai runs words together; Devanagari ends some in a combining mark).
    r"|nghìn|ngàn|triệu|t[ỷỉ]|ألف|مليون|مليار|میلیون|میلیارد|מיליון|מיליארד"
    r"|миллиард(?:ов|а)?|миллион(?:ов|а)?|млрд|млн|тыс|लाख|करोड़?|अरब|লাখ|কোটি|แสนล้าน|ล้าน)",
    re.IGNORECASE,
)
_MONEY_UNIT = re.compile(
    r"\s?(?:de\s|d['’]|di\s)?(?:US-?)?(?:dollars?|dollari|dolarów|dolar|dólar(?:es)?|euros?|yuan|pounds|yen|won"
    r"|usd|eur|gbp|jpy|cny|rmb|krw|inr|vnd|aed|sar|đồng)\b"
    r"|\s?(?:ドル|美元|日元|日圓|日圆|欧元|歐元|港元|人民币|元|円|ユーロ|韩元|韓元|ウォン|원|달러|유로"
    r"|دولار|درهم|ريال|يورو|دلار|تومان|ریال|דולר|יורו|ש\"ח|שקל|доллар|евро|руб|डॉलर|रुपये|ডলার|টাকা"
    r"|ดอลลาร์|บาท)",
    re.IGNORECASE,
)
_POWER = re.compile(
    r"\s?(gigawatts?|megawatts?|kilowatts?|gw|mw|kw)\b"
    r"|\s?(ギガワット|メガワット|キロワット|吉瓦|兆瓦|千瓦|기가와트|메가와트|ميغاواط|ميجاواط|غيغاواط|جيجاواط"
    r"|مگاوات|گیگاوات|מגוואט|гвт|мвт|квт|गीगावाट|मेगावाट|เมกะวัตต์|กิกะวัตต์)",
    re.IGNORECASE,
)
_PERCENT = re.compile(
    r"\s?(?:%|％|percent\b|per cent\b|prozent\b|pour cent\b|por cien(?:to)?\b)", re.IGNORECASE
)
_TIMES = re.compile(r"(?:x\b|×|\s?times\b|[\s-]?fach\b|倍)", re.IGNORECASE)
_COUNT = re.compile(
    r"[\s-]+(?:[\w-]+\s+){0,2}?(gpus?|chips?|accelerators?|servers?|processors?|wafers?|racks?|nodes?|"
    r"h100s?|h200s?|h20s?|b200s?|gb200s?|blackwells?|units?|jobs|employees|workers|engineers|qubits|"
    r"tokens|parameters|companies|firms|entities|parties|countries|sites|plants|buildings|campuses|"
    r"turbines|reactors|startups|operators|suppliers|fabs)\b",
    re.IGNORECASE,
)
_MONTHS = {
    **{m: i + 1 for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )},
    **{m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
    "sept": 9,
    **{m: i + 1 for i, m in enumerate(
        "januar februar märz april mai juni juli august september oktober november dezember".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()
    )},
    **{m: i + 1 for i, m in enumerate(
        "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro".split()
    )},
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Month and day in several languages: "February 15", "15. Februar", "15 de febrero", "2月15日".
_MONTH_BEFORE = re.compile(rf"\b({_MONTH_ALT})\.?\s+$", re.IGNORECASE)
_MONTH_AFTER = re.compile(rf"\.?\s+(?:de\s+)?({_MONTH_ALT})\b", re.IGNORECASE)
_CJK_DATE = re.compile(r"月(\d{1,2})日")
# Dates in digits: day first with dots ("10.4.2026") in the languages that write them so, and with
# slashes outside English ("10/4/2026"; an English text may mean the 4th of October); year first
# ("2026/4/10", "2026-04-10") in any language.
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})([./])(\d{1,2})\2((?:19|20)\d\d)(?![\d])|((?:19|20)\d\d)([/-])(\d{1,2})\6(\d{1,2})(?![\d])"
)
_DATE_SEPARATORS = frozenset("./-")
DATELINE = re.compile(r"^[A-ZÀ-Ý][A-ZÀ-Ý .'-]{1,40}(?:,[^()\n]{1,40})? \([^)\n]{1,40}\)\s*[-–—]+\s*")
# Reporting periods: "Q3", "third-quarter", "3Q" all name the same quarter.
_QUARTER = re.compile(r"\b(?:Q([1-4])|([1-4])Q|(first|second|third|fourth)[- ]quarter)\b", re.IGNORECASE)
_QUARTER_LOWER = re.compile(r"\b(?:q([1-4])|([1-4])q|(first|second|third|fourth)[- ]quarter)\b")
_ORDINAL_QUARTER = {"first": "1", "second": "2", "third": "3", "fourth": "4"}
_Q_DIGIT = re.compile(r"q[1-4]|[1-4]q")
_DIGIT = re.compile(r"\d")
_CURRENCY_ENDS = frozenset("$€£¥DRWYBPK")
_UNIT_STARTS = frozenset("-%％×倍")
_MAYBE_FIGURE = re.compile(r"\d|illion|igawatt|egawatt|thousand|uarter", re.IGNORECASE)
_POWER_UNITS = {
    "gw": 1000.0,
    "gigawatt": 1000.0,
    "mw": 1.0,
    "megawatt": 1.0,
    "kw": 0.001,
    "kilowatt": 0.001,
    "ギガワット": 1000.0,
    "メガワット": 1.0,
    "吉瓦": 1000.0,
    "兆瓦": 1.0,
    "キロワット": 0.001,
    "千瓦": 0.001,
    "기가와트": 1000.0,
    "메가와트": 1.0,
    "ميغاواط": 1.0,
    "ميجاواط": 1.0,
    "غيغاواط": 1000.0,
    "جيجاواط": 1000.0,
    "مگاوات": 1.0,
    "گیگاوات": 1000.0,
    "מגוואט": 1.0,
    "гвт": 1000.0,
    "мвт": 1.0,
    "квт": 0.001,
    "गीगावाट": 1000.0,
    "मेगावाट": 1.0,
    "เมกะวัตต์": 1.0,
    "กิกะวัตต์": 1000.0,
}


# The case-insensitive patterns read around a number, and the same patterns (their sources hold no
# upper-case escapes) for a lower-cased copy of the text: case-sensitive matching is much faster.
_AROUND_NUMBER = (_MAG, _MONEY_UNIT, _POWER, _PERCENT, _TIMES, _COUNT, _MONTH_BEFORE, _MONTH_AFTER)
_AROUND_NUMBER_LOWER = tuple(re.compile(p.pattern.lower()) for p in _AROUND_NUMBER)


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # normalised: "usd:5.5e+09", "mw:1200", "n:50000", "pct:12"
    text: str  # as written in the article


@dataclass(frozen=True, slots=True)
class StoryFeatures:
    terms: Mapping[str, float]  # term -> section-weighted frequency
    lead_events: frozenset[str]  # event types named in the title and lead
    events: frozenset[str]  # event types named anywhere in the considered text
    facts: Mapping[str, str]  # fact key -> display text (figures and named entities)
    neutral: frozenset[str] = frozenset()  # terms that read the same in any language: names, figures
    english: bool = True
    language: str = "en"  # a coarse language key (see _language)


@dataclass(frozen=True, slots=True)
class Assignment:
    story_id: str
    created: bool
    score: float
    new_facts: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()  # stories folded into `story_id` because this article joined them


@dataclass(slots=True)
class _Story:
    id: str
    first: datetime
    last: datetime
    articles: int
    terms: dict[str, float]
    lead_events: set[str]
    events: set[str]
    facts: set[str]
    indexed: set[str] = field(default_factory=set)  # terms whose postings list this story
    # IDF-weighted terms and their norm, valid while `generation` matches the index's.
    weighted: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0
    generation: int = -1
    neutral: set[str] = field(default_factory=set)  # name and figure terms (language-neutral)
    english: bool = True  # every article so far is English
    foreign: bool = False  # some article is not in English
    english_seen: bool = False  # some article is in English
    languages: set[str] = field(default_factory=set)  # language keys of its articles
    neutral_norm: float = 0.0
    neutral_generation: int = -2


# -- features ---------------------------------------------------------------------------------


def _one_article_story(story_id: str, feats: StoryFeatures, when: datetime) -> _Story:
    """A story of one article, outside any index (see StoryIndex._found and _attach)."""
    return _Story(
        id=story_id,
        first=when,
        last=when,
        articles=1,
        terms=dict(feats.terms),
        lead_events=set(feats.lead_events),
        events=set(feats.events),
        facts=set(feats.facts),
        neutral=set(feats.neutral),
        english=feats.english,
        foreign=not feats.english,
        english_seen=feats.english,
        languages={feats.language},
    )


def story_id_for(article_id: str) -> str:
    """Deterministic story id derived from the id of the article that founded it."""
    return "s-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:12]


def _tokens(text: str) -> list[str]:
    """The words of `text` (_TOKEN's matches)."""
    return (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text)


def split_sentences(text: str, limit: int | None = None) -> list[str]:
    """A cheap sentence splitter for feature extraction (the card uses bot.core.text.sentences)."""
    out: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if part:
            out.append(part)
            if limit is not None and len(out) >= limit:
                break
    return out


_DECIMAL_COMMA = re.compile(r"\d+,\d{1,2}")
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")


_GROUPING = re.compile(r"[,\s\u00a0\u202f]")


@lru_cache(maxsize=20_000)
def _value(number: str, magnitude: str | None) -> float:
    if number.isdigit():  # the common case; float() reads any decimal digits
        value = float(number)
    elif number[0].isalpha():
        value = _NUMBER_WORDS.get(number.lower(), 1.0)
    elif _DECIMAL_COMMA.fullmatch(number):  # "9,7 Milliarden"
        value = float(number.replace(",", "."))
    elif _DOT_THOUSANDS.fullmatch(number) and (not magnitude or magnitude.lower() not in _ENGLISH_MAGNITUDES):
        # "30.000 GPUs", "2.600 millones"; but "$1.125 billion" is a decimal
        value = float(number.replace(".", ""))
    else:
        value = float(_GROUPING.sub("", number))
    if magnitude:
        value *= _MAGNITUDE.get(magnitude.lower().rstrip("."), 1.0)
    return value


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def figures(text: str) -> list[Figure]:
    """Exact quantities in the text: money, power, percentages, counts of things, and other large
    numbers (years excluded). Keys are normalised so "$10bn" and "$10 billion" meet."""
    seen: dict[str, Figure] = {}
    for key, written, _ in _figures_at(text):
        seen.setdefault(key, Figure(key, written))
    return list(seen.values())


def _date_at(
    text: str, start: int, end: int, day: int, months: tuple[re.Pattern[str], re.Pattern[str], str]
) -> tuple[str, str, int] | None:
    """A month-day date around the day number at text[start:end], in any of our languages.
    `months`: the patterns for a month before and after the day, and the text they run on (the
    text itself or its lower-cased copy, see _figures_at)."""
    if not 1 <= day <= 31:
        return None
    month_before, month_after, subject = months
    # Each pattern needs a space before / a full stop or space after / 月 after: checked first.
    before = None
    if text[start - 1 : start].isspace():
        before = month_before.search(subject, max(0, start - 12), start)
    if before:
        month = _MONTHS.get(before.group(1).lower())
        if month is None:  # matched through Unicode case folding ("ſeptember"), not a month we know
            return None
        return f"d:{month:02d}-{day:02d}", text[before.start() : end], before.start()
    following = text[end : end + 1]
    after = month_after.match(subject, end) if following == "." or following.isspace() else None
    if after:
        month = _MONTHS.get(after.group(1).lower())
        if month is None:  # matched through Unicode case folding ("ſeptember"), not a month we know
            return None
        return f"d:{month:02d}-{day:02d}", text[start : after.end()], start
    cjk = _CJK_DATE.match(text, end) if following == "月" else None
    if cjk and day <= 12:  # "2月15日": the number we hold is the month
        return f"d:{day:02d}-{int(cjk.group(1)):02d}", text[start : cjk.end()], start
    return None


# Characters that match ASCII letters case-insensitively without lower-casing to them (or that
# lower-case to two characters): only without them does a lower-cased copy stand in for a
# case-insensitive search, offsets included.
_ODD_CASE = ("\u0130", "\u0131", "\u017f", "\u212a")


def _plain_lower(text: str) -> str | None:
    """The lower-cased text when case-sensitive patterns on it find what case-insensitive ones
    find on `text`, at the same offsets; else None."""
    if text.isascii() or not any(char in text for char in _ODD_CASE):
        return text.lower()
    return None


def _quarters(text: str, lower: str | None) -> list[tuple[str, str, int]]:
    if lower is None:
        matches = list(_QUARTER.finditer(text))
    elif "quarter" in lower or _Q_DIGIT.search(lower) is not None:
        matches = list(_QUARTER_LOWER.finditer(lower))
    else:
        return []
    out = []
    for m in matches:
        quarter = m.group(1) or m.group(2) or _ORDINAL_QUARTER[m.group(3).lower()]
        out.append(("q:" + quarter, text[m.start() : m.end()], m.start()))
    return out


def _unit_word_starts(text: str, lower: str | None) -> list[int]:
    """Where the whitespace before each magnitude or power word ("  million") starts."""
    if lower is None:
        if not _WORDY.search(text):
            return []
        return [m.start() for m in _MAG_WORD.finditer(text)]
    if not any(word in lower for word in _WORDY_PARTS):
        return []
    starts = []
    for m in _MAG_WORD_LOWER.finditer(lower):
        stop = m.start()
        if stop and lower[stop - 1].isspace():
            stop -= 1
            while stop and lower[stop - 1].isspace():
                stop -= 1
            starts.append(stop)
    return starts


def _numeric_date(text: str, start: int, *, slashes_day_first: bool) -> tuple[str, str, int] | None:
    """A date written in digits at text[start:] (see _NUMERIC_DATE), as _figures_at keys it."""
    m = _NUMERIC_DATE.match(text, start)
    if m is None:
        return None
    if m.group(1):
        if m.group(2) == "/" and not slashes_day_first:
            return None
        day, month = int(m.group(1)), int(m.group(3))
    else:
        month, day = int(m.group(7)), int(m.group(8))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"d:{month:02d}-{day:02d}", m.group(0), m.end()


def _figures_at(text: str, *, slashes_day_first: bool = False) -> list[tuple[str, str, int]]:
    """(normalised key, text as written, offset) for each figure, in order. `slashes_day_first`:
    read "10/4/2026" as the 10th of April (outside English texts)."""
    if not _DIGIT.search(text) and not _MAYBE_FIGURE.search(text):  # the first test is much cheaper
        return []
    found: list[tuple[str, str, int]] = []
    skip: set[int] = set()  # numbers read as the second part of a compound CJK amount
    # Units and dates are read on the lower-cased copy when it stands in for the text (_plain_lower).
    lower = _plain_lower(text)
    subject, patterns = (text, _AROUND_NUMBER) if lower is None else (lower, _AROUND_NUMBER_LOWER)
    mag_re, money_re, power_re, percent_re, times_re, count_re, month_before, month_after = patterns
    months = (month_before, month_after, subject)
    numbers = list(_NUM.finditer(text))
    for stop in _unit_word_starts(text, lower):
        word = _NUM_WORD_END.search(text, max(0, stop - _NUM_WORD_SPAN), stop)
        if word is not None:
            numbers.append(word)
    date_end = -1  # the end of the last date read in digits: its other numbers are part of it
    for m in numbers:
        start, end = m.start(), m.end()
        if start in skip or start < date_end:
            continue
        number = m.group(1)
        if text[end : end + 1] in _DATE_SEPARATORS:
            date = _numeric_date(text, start, slashes_day_first=slashes_day_first)
            if date is not None:
                found.append((date[0], date[1], start))
                date_end = date[2]
                continue
        # A currency sign or code ends at most two characters (a space, a line break) before.
        currency = (
            None
            if _CURRENCY_ENDS.isdisjoint(text[max(0, start - 3) : start])
            else _CURRENCY.search(text, max(0, start - 5), start)
        )
        # Magnitudes and units start with a space, a letter or one of a few signs: after anything
        # else ("2025,", "12.") none of their patterns can match, so none is tried.
        following = text[end : end + 1]
        tail = bool(following) and (following.isalpha() or following.isspace() or following in _UNIT_STARTS)
        mag = mag_re.match(subject, end) if tail else None
        magnitude = (mag.group(1) or mag.group(2)) if mag else None
        # Single letters are magnitudes only after a currency sign ("$5bn", "$5B"), not "5 m".
        if magnitude and magnitude.lower() in ("m", "b", "t") and not currency:
            magnitude, mag = None, None
        after = mag.end() if mag else end
        value = _value(number, magnitude)
        while magnitude in _CJK_NEXT:
            pattern, factor = _CJK_NEXT[magnitude]
            rest = pattern.match(text, after)
            if rest is None:
                break
            value += _value(rest.group(1), None) * factor
            skip.add(rest.start(1))
            after = rest.end()
            magnitude = text[after - 1] if factor > 1 else None
        key: str | None = None
        unit: re.Match[str] | None = None
        if currency:
            start, key = currency.start(), "usd:" + _fmt(value)
        elif tail and (unit := money_re.match(subject, after)):
            key = "usd:" + _fmt(value)
        elif tail and (unit := power_re.match(subject, after)):
            factor = _POWER_UNITS.get((unit.group(1) or unit.group(2)).lower().rstrip("s"), 1.0)
            key = "mw:" + _fmt(value * factor)
        elif tail and (unit := percent_re.match(subject, after)):
            key = "pct:" + _fmt(value)
        elif tail and (unit := times_re.match(subject, after)):
            key = "x:" + _fmt(value)
        elif tail and (unit := count_re.match(subject, after)):
            key = "n:" + _fmt(value)
        elif magnitude or not (value < 100 or ("." not in number and 1900 <= value <= 2100)):
            # Years, small counts and ordinals are not evidence of one specific event.
            key = "n:" + _fmt(value)
        if key is None:
            if len(number) <= 2 and number.isdigit():
                date = _date_at(text, start, end, int(number), months)
                if date is not None:
                    found.append(date)
            continue
        stop = unit.end() if unit else after
        found.append((key, text[start:stop].strip(), start))
    if "uarter" in text or "Q" in text:
        found += _quarters(text, lower)
    return found


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 6 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 5 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) == 4 and word.endswith("pus"):  # GPUs, TPUs, NPUs
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_ELISIONS = frozenset("l d qu n s j c m t jusqu lorsqu puisqu dell all nell dall sull un".split())


@lru_cache(maxsize=200_000)
def _word(lower: str) -> str | None:
    """The stem a lower-cased word counts as, or None for function words, digits and scraps."""
    if lower in STOPWORDS or len(lower) < 2 or lower.isdigit() or _UNIT_TOKEN.fullmatch(lower):
        return None  # figures are handled separately; bare digits (years, days) are noise
    stem = _stem(lower)
    return None if stem in STOPWORDS else stem


# What each distinct token (as written) contributes is worked out once and kept: articles repeat
# their words and the stream repeats the language's. Per token, one record (so a text's tokens are
# looked up once): its lower-cased word, then per headline style (running text, Title Case, ALL CAPS)
# the step it adds to the terms, (stem, boosted as a name, counts as a name), or None for function
# words. CJK runs have no word: their character bigrams stand in for words.
_Step = tuple[str, bool, bool]
_Word = tuple[str, _Step | None, _Step | None, _Step | None]
_TOKEN_CACHE_MAX = 100_000
_WORDS: dict[str, _Word] = {}
_CJK_GRAMS: dict[str, tuple[str, ...]] = {}
_CASED, _TITLE_CASE, _SHOUTING = 1, 2, 3  # indexes of the steps in a _Word


def _learn_token(token: str) -> None:
    if len(_WORDS) + len(_CJK_GRAMS) >= _TOKEN_CACHE_MAX:
        _WORDS.clear()
        _CJK_GRAMS.clear()
    key, first = token, token[0]
    if first >= "\u3040" and _CJK_RUN.match(first):
        # No spaces between CJK words: character bigrams stand in for words. Particles and function
        # characters say nothing about the event.
        _CJK_GRAMS[key] = tuple(
            gram
            for gram in (token[i : i + 2] for i in range(len(token) - 1))
            if not (_CJK_FUNCTION.search(gram) or _HIRAGANA_PAIR.match(gram))
        )
        return
    alpha = token.isalpha()
    if not alpha and ("'" in token or "’" in token):
        head, _, tail = token.replace("’", "'").partition("'")
        if head.lower() in _ELISIONS and tail:
            token = tail  # French/Italian "l'industrie", "d'euros" -> "industrie", "euros"
            first, alpha = token[0], token.isalpha()
    lower = token.lower()
    if lower == token:
        lower = token  # one copy of the string in the cache
    stem = _word(lower)
    if stem is None:
        _WORDS[key] = (lower, None, None, None)
        return
    # Names (capitalised or alphanumeric like "H20") say which event this is more than prose, and
    # they read the same in every language. In a Title Case or ALL CAPS headline only "DeepSeek"-style
    # words and alphanumerics stand out.
    if alpha:
        named = (first.isupper(), not token[1:].islower(), False)
    else:
        digit = _HAS_DIGIT.search(token) is not None
        named = (digit or first.isupper(), digit, digit)
    plain: _Step = (stem, False, False)
    name: _Step = (stem, stem not in COMMON_WORDS, True)
    cased, title_case, shouting = (name if is_name else plain for is_name in named)
    _WORDS[key] = (lower, cased, title_case, shouting)


def _add_words(
    terms: dict[str, float],
    names: set[str],
    text: str,
    weight: float,
    skip: frozenset[str] = frozenset(),
    cased: bool = True,
    seen: set[str] | None = None,
    tokens: list[str] | None = None,
) -> tuple[int, int]:
    """Add the text's words to `terms`; collect name-like ones in `names`. Returns (words, English
    function words) so the caller can tell English from other languages. `tokens` are the text's
    _TOKEN matches when the caller has them already."""
    if tokens is None:
        tokens = _tokens(text)
    found = list(map(_WORDS.get, tokens))
    if None in found:  # new tokens or CJK runs
        for token in {token for token, word in zip(tokens, found, strict=True) if word is None}:
            if token not in _CJK_GRAMS:
                _learn_token(token)
        found = list(map(_WORDS.get, tokens))
        if None in found:  # CJK runs (or tokens just dropped from a full cache)
            return _add_words_each(terms, names, text, weight, skip, cased, seen, tokens)
    words = cast("list[_Word]", found)
    lowers = list(map(itemgetter(0), words))
    mode = _CASED if cased else _SHOUTING if text.isupper() else _TITLE_CASE
    hits: list[_Step] = list(filter(None, map(itemgetter(mode), words)))
    if seen is not None:
        seen.update(lowers)
    if skip:
        hits = [hit for hit in hits if hit[0] not in skip]
    name_weight = weight * NAME_BOOST
    get = terms.get
    # In text order, so every sum comes out exactly as it always has.
    for stem, boosted, named in hits:
        if named:
            names.add(stem)
        terms[stem] = get(stem, 0.0) + (name_weight if boosted else weight)
    return len(tokens), sum(map(ENGLISH_MARKERS.__contains__, lowers))


def _add_words_each(
    terms: dict[str, float],
    names: set[str],
    text: str,
    weight: float,
    skip: frozenset[str],
    cased: bool,
    seen: set[str] | None,
    tokens: list[str],
) -> tuple[int, int]:
    """_add_words token by token: for text with CJK runs."""
    mode = _CASED if cased else _SHOUTING if text.isupper() else _TITLE_CASE
    name_weight = weight * NAME_BOOST
    cjk_weight = weight * CJK_WEIGHT
    words = english = 0
    get = terms.get
    for token in tokens:
        if token not in _WORDS and token not in _CJK_GRAMS:
            _learn_token(token)
        grams = _CJK_GRAMS.get(token)
        if grams is not None:
            for gram in grams:
                terms[gram] = get(gram, 0.0) + cjk_weight
            continue
        word = _WORDS.get(token)
        if word is None:  # dropped by a cache reset just now
            _learn_token(token)
            word = _WORDS[token]
        lower = word[0]
        words += 1
        if seen is not None:
            seen.add(lower)
        if lower in ENGLISH_MARKERS:
            english += 1
        step = cast("_Step | None", word[mode])
        if step is None or step[0] in skip:
            continue
        stem, boosted, named = step
        if named:
            names.add(stem)
        terms[stem] = get(stem, 0.0) + (name_weight if boosted else weight)
    return words, english


def _title_case(title: str, tokens: list[str] | None = None) -> bool:
    """Headlines In Title Case (or ALL CAPS) capitalise every word: capitals then mean nothing."""
    if tokens is None:
        tokens = _tokens(title)
    words = [w for w in tokens if w.isalpha() and len(w) > 3 and not _CJK_RUN.match(w)]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def event_types(text: str) -> set[str]:
    """The kinds of event the text names (see EVENT_PATTERNS)."""
    lower = text.lower()
    words = word_event_types(lower)
    return words | _phrase_events(lower, words)


def _phrase_events(lower: str, found: set[str] | None = None) -> set[str]:
    out: set[str] = set()
    for name, literal, pattern in _PHRASE_PATTERNS:
        if name in out or (found and name in found) or literal not in lower:
            continue
        for m in pattern.finditer(lower):
            start = m.start()
            if start == 0 or not lower[start - 1].isalnum():
                out.add(name)
                break
    return out


@lru_cache(maxsize=100_000)
def _word_events(word: str) -> frozenset[str]:
    return frozenset(name for name, pattern in _SINGLE_WORD_EVENTS.items() if pattern.fullmatch(word))


def word_event_types(text: str) -> set[str]:
    """Event kinds named by single words (no phrases): a cheap pass for long text."""
    out: set[str] = set()
    for word in set(_tokens(text.lower())):
        out |= _word_events(word)
    return out


_FACT_TYPES = frozenset({"organization", "product", "regulator", "place", "person"})


@lru_cache(maxsize=1024)
def _outlet_stems(source: str) -> frozenset[str]:
    """The outlet's own name (in datelines, "told Global Wire") says nothing about the event."""
    return frozenset(_stem(t.lower()) for t in _tokens(source))


def features(article: Article, triage: Triage | None = None) -> StoryFeatures:
    """The event-centred representation of one article used for clustering."""
    title = article.title or ""
    sentences = split_sentences(article.text[:BODY_CHARS]) if article.text else []
    # A body that repeats the title as its first line would count it twice.
    start = 1 if sentences and title and sentences[0].lower() == title.strip().lower() else 0
    if len(sentences) > start:
        # A wire dateline ("SANTA CLARA, California, Nov 18 (Global Wire) - ") names the outlet's
        # desk and the filing day, not the event.
        sentences[start] = DATELINE.sub("", sentences[start], count=1)
    lead = " ".join(sentences[start : start + LEAD_SENTENCES])
    rest = " ".join(sentences[start + LEAD_SENTENCES :])

    terms: dict[str, float] = {}
    names: set[str] = set()
    rest_words: set[str] = set()
    head_words: set[str] = set()
    outlet = _outlet_stems(article.source or "")
    tokens = _tokens(title)
    cased = not _title_case(title, tokens)
    counts = [
        _add_words(terms, names, title, TITLE_WEIGHT, outlet, cased=cased, seen=head_words, tokens=tokens),
        _add_words(terms, names, lead, LEAD_WEIGHT, outlet, seen=head_words),
        _add_words(terms, names, rest, BODY_WEIGHT, outlet, seen=rest_words),
    ]
    words = sum(c[0] for c in counts)
    english = words > 0 and sum(c[1] for c in counts) >= ENGLISH_SHARE * words
    language = "en" if english else _language(title + "\n" + lead + "\n" + rest[:1000])
    # Dampen repetition: a word said ten times is not ten times the evidence.
    terms = dict(zip(terms, map(math.sqrt, terms.values()), strict=True))

    facts: dict[str, str] = {}
    text = title + "\n" + lead + "\n" + rest
    lead_end = len(title) + 1 + len(lead)
    for key, written, offset in sorted(_figures_at(text, slashes_day_first=not english), key=lambda f: f[2]):
        weight = TITLE_WEIGHT if offset < len(title) else LEAD_WEIGHT if offset < lead_end else BODY_WEIGHT
        term = "#" + key
        # Dates count like amounts; the wire dateline's filing day was stripped above.
        boost = DATE_BOOST if key.startswith("d:") else FIGURE_BOOST
        terms[term] = max(terms.get(term, 0.0), weight * boost)
        if not key.startswith(("d:", "q:")):
            facts.setdefault(term, written)
        names.add(term)
    head_lower = text[:lead_end].lower()
    lead_events: set[str] = set().union(*map(_word_events, head_words - _backstory_words(head_lower)))
    lead_events |= _phrase_events(head_lower, lead_events)
    events = lead_events.union(*map(_word_events, rest_words))
    every_word = rest_words | head_words
    for name, mentions in MENTION_WORDS.items():
        if name not in events and not mentions.isdisjoint(every_word):
            events.add(name)
    for name in lead_events:
        terms["ev:" + name] = EVENT_TERM_WEIGHT
    if triage is not None:
        for entity in triage.entities:
            found = _entity_term(entity)
            if found is None:
                continue
            term = found
            # Canonical names and values: the same in every language the vocabulary knows. In
            # English the words already count, so the canonical name adds weight only when the
            # headline or lead names it (the event's actors, not the background).
            named_early = not english or entity.name.lower() in head_lower
            weight = ENTITY_WEIGHT if named_early else ENTITY_BODY_WEIGHT
            terms[term] = max(terms.get(term, 0.0), weight)
            names.add(term)
            if entity.type in _FACT_TYPES:
                facts.setdefault(term, entity.name)
    return StoryFeatures(
        terms=terms,
        lead_events=frozenset(lead_events),
        events=frozenset(events),
        facts=facts,
        neutral=frozenset(names),
        english=english,
        language=language,
    )


_PLUPERFECT = re.compile(r"\bhad (?:been |already |long |twice )?([a-z]+)\b")


def _backstory_words(lower: str) -> set[str]:
    """Words the lead uses only in the pluperfect ("a project that had been stalled since 2025"):
    what happened before the news, not the news, so they name no event of the lead."""
    if "had " not in lower:
        return set()
    uses = Counter(_PLUPERFECT.findall(lower))
    return {word for word, n in uses.items() if len(re.findall(rf"\b{re.escape(word)}\b", lower)) == n}


def _language(text: str) -> str:
    """A coarse key for the language of a text that is not English: the script when it tells
    (kana: Japanese; hangul: Korean; Han alone: Chinese; Cyrillic, Greek, ...), else the Latin-script
    language whose function words it uses most ("latin" when none stands out)."""
    if _NON_LATIN_SCRIPT.search(text):
        if _KANA.search(text):
            return "ja"
        if _HANGUL.search(text):
            return "ko"
        if _HAN.search(text):
            return "zh"
        for key, script in _SCRIPTS:
            if script.search(text):
                return key
    markers = filter(None, map(_MARKER_LANGUAGES.get, _tokens(text.lower())))
    marked = Counter(chain.from_iterable(markers))
    counts = {lang: marked[lang] for lang in LANGUAGE_MARKERS}  # in this order, for ties
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    (best, most), (_, second) = ranked[0], ranked[1]
    return best if most >= 3 and most >= 1.5 * second else "latin"


def _entity_term(entity: Entity) -> str | None:
    if entity.type in _FACT_TYPES:
        return "e:" + entity.name.lower()
    if entity.value is None:
        return None
    if entity.type == "money":
        return "#usd:" + _fmt(entity.value)
    if entity.type == "power":
        return "#mw:" + _fmt(entity.value)
    if entity.type == "gpu_count":
        return "#n:" + _fmt(entity.value)
    return None


# -- the index --------------------------------------------------------------------------------


class StoryIndex:
    """Incremental story clustering over a sliding time window. Pure in-memory state."""

    def __init__(self, window: timedelta = timedelta(hours=96), *, threshold: float | None = None):
        self.window = window
        self.threshold = MERGE_THRESHOLD if threshold is None else threshold
        self._stories: dict[str, _Story] = {}
        self._postings: dict[str, dict[str, None]] = {}
        self._df: dict[str, int] = {}
        self._docs = 0
        self._expiry: list[tuple[datetime, str]] = []  # (last seen, story id); stale entries skipped
        # IDF values change slowly; recomputing them for every comparison was most of the cost.
        # The cache is dropped whenever the number of articles seen grows by IDF_REFRESH.
        self._idf_cache: dict[str, float] = {}
        self._idf_docs = 0
        self._generation = 0  # bumped whenever cached IDF values are dropped

    def __len__(self) -> int:
        return len(self._stories)

    # IDF over every article the index has seen; unseen terms count as rare.
    def idf(self, term: str) -> float:
        cached = self._idf_cache.get(term)
        if cached is not None:
            return cached
        value = self._idf(term)
        self._idf_cache[term] = value
        return value

    def _weighted(self, terms: Mapping[str, float]) -> dict[str, float]:
        """Each term's weight times its IDF (cached IDFs read inline: this runs for every term)."""
        cache = self._idf_cache
        out: dict[str, float] = {}
        missing = [t for t in terms if t not in cache]
        if missing:
            # _idf inlined: the same expression, without two calls per term.
            docs = self._docs + PRIOR_DOCS + 1.0
            df = self._df.get
            log = math.log
            for t in missing:
                prior = PRIOR_DOCS * PRIOR_COMMON_SHARE if t in COMMON_WORDS else 0.0
                cache[t] = log(docs / (df(t, 0) + prior + 0.5)) + IDF_FLOOR
        for t, w in terms.items():
            out[t] = w * cache[t]
        return out

    def _refresh_idf(self) -> None:
        self._idf_cache.clear()
        self._idf_docs = self._docs
        self._generation += 1

    def _idf(self, term: str) -> float:
        prior = PRIOR_DOCS * PRIOR_COMMON_SHARE if term in COMMON_WORDS else 0.0
        return math.log((self._docs + PRIOR_DOCS + 1.0) / (self._df.get(term, 0) + prior + 0.5)) + IDF_FLOOR

    def learn(self, feats: StoryFeatures) -> None:
        """Count an article's terms for the IDF without assigning it (batch callers pre-warm)."""
        self._docs += 1
        if self._docs > self._idf_docs * (1 + IDF_REFRESH):
            self._refresh_idf()
        df = self._df
        get = df.get
        forget = self._idf_cache.pop
        for term in feats.terms:
            df[term] = get(term, 0) + 1
            forget(term, None)  # the article's own terms are always current

    def assign(
        self, article_id: str, feats: StoryFeatures, when: datetime, *, learn: bool = True
    ) -> Assignment:
        """Join the article to the story it reports, or found a new one. An article that fits
        several stories about equally well merges them (see BRIDGE_SHARE)."""
        if learn:
            self.learn(feats)
        matched = self._matches(feats, when)
        if not matched:
            return self._found(article_id, feats, when)
        best_score, best = matched[0]
        merged: list[str] = []
        for score, other in matched[1:]:
            if score >= BRIDGE_SHARE * best_score:
                self._fold(best, other)
                merged.append(other.id)
        new_facts = self._attach(best, feats, when)
        return Assignment(best.id, False, round(best_score, 4), new_facts, tuple(merged))

    def join(self, feats: StoryFeatures, when: datetime) -> Assignment | None:
        """Join the article to a story it reports, if there is one; never founds or merges a
        story. (For articles triage found no subject in: one that reports the same event as a
        relevant story belongs with it, but alone it starts nothing.)"""
        matched = self._matches(feats, when)
        if not matched:
            return None
        self.learn(feats)
        best_score, best = matched[0]
        return Assignment(best.id, False, round(best_score, 4), self._attach(best, feats, when))

    def _matches(self, feats: StoryFeatures, when: datetime) -> list[tuple[float, _Story]]:
        """The stories the article could join, best first, with their scores."""
        weights = self._weighted(feats.terms)
        norm = math.sqrt(sum([w * w for w in weights.values()])) or 1.0

        neutral = {t: weights[t] for t in feats.neutral if t in weights}
        neutral_norm = math.sqrt(sum([w * w for w in neutral.values()])) or 1.0

        matched: list[tuple[float, _Story]] = []
        for story in self._candidates(weights, neutral, when):
            prose = self._similarity(weights, norm, story)
            names = self._neutral_similarity(neutral, neutral_norm, story)
            # Reports in one language compare on prose and names/figures blended (names and
            # figures agree more reliably than prose, and shared common words of a language must
            # not carry a merge alone); across languages only names and figures can agree.
            same_language = feats.language in story.languages
            other_language = any(lang != feats.language for lang in story.languages)
            # Two reports outside English may share a language the markers could not tell apart.
            blend = same_language or (not feats.english and story.foreign)
            score = (1 - NEUTRAL_MIX) * prose + NEUTRAL_MIX * names if blend else 0.0
            if other_language and names >= NEUTRAL_THRESHOLD:
                score = max(score, names * self.threshold / NEUTRAL_THRESHOLD)
            if score < self.threshold:
                continue
            # Event-kind conflicts are read from English words only.
            if feats.english and story.english and score < SURE_THRESHOLD and _conflict(feats, story):
                continue
            matched.append((score, story))
        # Stable: among equal scores the likelier candidate (found first) stays first.
        matched.sort(key=lambda pair: pair[0], reverse=True)
        return matched

    def _found(self, article_id: str, feats: StoryFeatures, when: datetime) -> Assignment:
        story_id = story_id_for(article_id)
        if story_id in self._stories:  # the same article assigned twice: same story
            return Assignment(story_id, False, 1.0, ())
        story = _one_article_story(story_id, feats, when)
        self._stories[story_id] = story
        self._set_terms(story, story.terms)
        heapq.heappush(self._expiry, (story.last, story_id))
        return Assignment(story_id, True, 0.0, ())

    def _attach(self, best: _Story, feats: StoryFeatures, when: datetime) -> tuple[str, ...]:
        """Add the article to the story; returns the facts it adds."""
        new_facts = tuple(text for key, text in feats.facts.items() if key not in best.facts)[:MAX_NEW_FACTS]
        self._absorb(best, _one_article_story(best.id, feats, when))
        return new_facts

    def _fold(self, story: _Story, other: _Story) -> None:
        """Merge story `other` into `story` (an article reported both)."""
        self._drop(other.id)
        self._absorb(story, other)

    def _absorb(self, story: _Story, other: _Story) -> None:
        """Add `other`'s articles to `story`: the centroid is the mean of both, weighted by their
        articles (so it does not drift towards whichever outlet wrote longest); everything else
        is the union."""
        n, m = story.articles, other.articles
        terms = {t: w * n / (n + m) for t, w in story.terms.items()}
        for t, w in other.terms.items():
            terms[t] = terms[t] + w * m / (n + m) if t in terms else w * m / (n + m)
        story.articles = n + m
        story.first = min(story.first, other.first)
        if other.last > story.last:
            story.last = other.last
            heapq.heappush(self._expiry, (story.last, story.id))
        story.lead_events |= other.lead_events
        story.events |= other.events
        story.facts |= other.facts
        story.neutral |= other.neutral
        story.english = story.english and other.english
        story.foreign = story.foreign or other.foreign
        story.english_seen = story.english_seen or other.english_seen
        story.languages |= other.languages
        self._set_terms(story, terms)

    def _candidates(
        self, weights: Mapping[str, float], neutral: Mapping[str, float], when: datetime
    ) -> list[_Story]:
        keys = sorted(weights, key=weights.__getitem__, reverse=True)[:QUERY_KEYS]
        # Names and figures also find stories told in other languages. Known entities and figures
        # first: they read the same in any language, while a German text's capitalised nouns also
        # pass for names and could crowd them out.
        def rank(term: str) -> tuple[bool, float]:
            return term.startswith(("e:", "#")), neutral[term]

        names = sorted(neutral, key=rank, reverse=True)[:QUERY_KEYS]
        keys += [k for k in names if k not in keys]
        votes: dict[str, float] = {}
        get = votes.get
        postings = self._postings
        for key in keys:
            posting = postings.get(key)
            if not posting or len(posting) > MAX_POSTING:
                continue
            w = weights[key]
            # Newest stories first, and only so many: work per key stays bounded however busy
            # the window is (postings are in insertion order, so the newest are at the end).
            for story_id in islice(reversed(posting), RECENT_POSTINGS):
                votes[story_id] = get(story_id, 0.0) + w
        ranked = sorted(votes, key=votes.__getitem__, reverse=True)
        out: list[_Story] = []
        window = self.window
        for story_id in ranked:
            story = self._stories.get(story_id)
            if story is None:
                continue
            if story.first - window <= when <= story.last + window:
                out.append(story)
                if len(out) >= MAX_CANDIDATES:
                    break
        return out

    def _similarity(self, weights: Mapping[str, float], norm: float, story: _Story) -> float:
        if story.generation != self._generation:
            story.weighted = self._weighted(story.terms)
            story.norm = math.sqrt(sum([w * w for w in story.weighted.values()])) or 1.0
            story.generation = self._generation
        theirs = story.weighted
        if len(weights) < len(theirs):
            dot = sum([w * theirs[t] for t, w in weights.items() if t in theirs])
        else:
            dot = sum([w * weights[t] for t, w in theirs.items() if t in weights])
        return dot / (norm * story.norm)

    def _neutral_similarity(self, neutral: Mapping[str, float], norm: float, story: _Story) -> float:
        if story.generation != self._generation:
            self._similarity({}, 1.0, story)  # refreshes the weighted vector
        if story.neutral_generation != story.generation:
            story.neutral_norm = (
                math.sqrt(sum(w * w for t, w in story.weighted.items() if t in story.neutral)) or 1.0
            )
            story.neutral_generation = story.generation
        theirs = story.weighted
        dot = sum(w * theirs[t] for t, w in neutral.items() if t in theirs and t in story.neutral)
        return dot / (norm * story.neutral_norm)

    def _set_terms(self, story: _Story, merged: dict[str, float]) -> None:
        """A story's new centroid: its strongest terms kept, its postings brought up to date."""
        story.terms = merged
        if len(merged) > STORY_TERMS:
            weighted = self._weighted(merged)
            keep = sorted(weighted, key=weighted.__getitem__, reverse=True)[:STORY_TERMS]
            story.terms = {t: merged[t] for t in keep}
        story.generation = -1  # its weighted vector must be recomputed
        story.neutral_generation = -2
        for term in story.terms:
            if term not in story.indexed:
                story.indexed.add(term)
                self._postings.setdefault(term, {})[story.id] = None

    # -- persistence and expiry -----------------------------------------------------------------

    def state(self, story_id: str) -> dict[str, Any]:
        """One story's clustering state, JSON-safe, for the store."""
        story = self._stories[story_id]
        return {
            "v": 1,
            "first": story.first.isoformat(),
            "last": story.last.isoformat(),
            "articles": story.articles,
            "terms": {t: round(w, 4) for t, w in story.terms.items()},
            "lead_events": sorted(story.lead_events),
            "events": sorted(story.events),
            "facts": sorted(story.facts),
            "neutral": sorted(story.neutral),
            "english": story.english,
            "foreign": story.foreign,
            "english_seen": story.english_seen,
            "languages": sorted(story.languages),
        }

    def restore(self, story_id: str, state: Mapping[str, Any]) -> None:
        """Reload a story saved with `state`; also feeds its terms to the IDF."""
        if not state or "terms" not in state:
            return
        if story_id in self._stories:
            self._drop(story_id)
        story = _Story(
            id=story_id,
            first=datetime.fromisoformat(state["first"]),
            last=datetime.fromisoformat(state["last"]),
            articles=int(state.get("articles", 1)),
            terms={str(t): float(w) for t, w in state["terms"].items()},
            lead_events=set(state.get("lead_events", ())),
            events=set(state.get("events", ())),
            facts=set(state.get("facts", ())),
            neutral=set(state.get("neutral", ())),
            english=bool(state.get("english", True)),
            foreign=bool(state.get("foreign", False)),
            english_seen=bool(state.get("english_seen", True)),
            languages=set(state.get("languages", ())),
        )
        if not story.languages:  # saved before languages were kept
            story.languages = {"en"} if story.english_seen else set()
            if story.foreign:
                story.languages.add("latin")
        self._stories[story_id] = story
        self._docs += story.articles
        self._refresh_idf()
        for term in story.terms:
            self._df[term] = self._df.get(term, 0) + story.articles
            story.indexed.add(term)
            self._postings.setdefault(term, {})[story_id] = None
        heapq.heappush(self._expiry, (story.last, story_id))

    def expire(self, before: datetime) -> int:
        """Drop stories last seen before `before` from the index. Returns how many were dropped."""
        dropped = 0
        while self._expiry and self._expiry[0][0] < before:
            last, story_id = heapq.heappop(self._expiry)
            story = self._stories.get(story_id)
            if story is not None and story.last == last:
                self._drop(story_id)
                dropped += 1
        return dropped

    def _drop(self, story_id: str) -> None:
        story = self._stories.pop(story_id)
        for term in story.indexed:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(story_id, None)
                if not posting:
                    del self._postings[term]

    def story_ids(self) -> Iterable[str]:
        return tuple(self._stories)


def _conflict(feats: StoryFeatures, story: _Story) -> bool:
    """Different kinds of event: a marker event in one lead that the other side never mentions,
    while the other side's lead names a kind of event of its own. (A lead that names none, as
    an analysis or a follow-up often has, says nothing against the marker.)"""
    if feats.lead_events and story.lead_events:
        for name in feats.lead_events & MARKER_EVENTS:
            if name not in story.events:
                return True
        return any(name not in feats.events for name in story.lead_events & MARKER_EVENTS)
    return False
