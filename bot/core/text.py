"""Article text: HTML to plain text, mojibake repair, boilerplate removal, sentences (pure).

`clean` is the one entry point the rest of the system uses; the pieces are public so tests and the
summarizer can use them separately. Everything here is regex- and selectolax-based and cheap: the
whole core must keep up with hundreds of articles a second on one CPU core.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
import unicodedata

import ftfy
from selectolax.lexbor import LexborHTMLParser as HTMLParser

__all__ = [
    "clean",
    "content_hash",
    "html_to_text",
    "looks_like_html",
    "normalize_whitespace",
    "paragraphs",
    "repair",
    "sentences",
    "strip_boilerplate",
    "title_from_html",
]

# --------------------------------------------------------------------------------------------------
# HTML -> text

# Elements that never carry article prose.
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "iframe",
    "svg",
    "canvas",
    "object",
)
_BLOCK_TAGS = (
    "p|div|h[1-6]|li|ul|ol|dl|dt|dd|tr|table|thead|tbody|blockquote|section|article|main|pre|"
    "figcaption|figure|hr|address|details|summary"
)
# Paragraph / line markers injected before parsing. They survive selectolax's text() untouched and
# let us collapse source whitespace without losing the document's structure.
_PARA = "\u2029"
_LINE = "\u2028"
_BLOCK_RE = re.compile(rf"<(?:/?(?:{_BLOCK_TAGS}))\b[^>]*>", re.IGNORECASE)
# Page chrome marked by class, id or role (share bars, related links, comment threads, author boxes).
_CHROME_SELECTOR = ", ".join(
    [
        f'[class*="{c}"]'
        for c in (
            "share",
            "social",
            "related",
            "comment",
            "newsletter",
            "subscribe",
            "author-box",
            "author-bio",
            "byline",
            "breadcrumb",
            "cookie",
            "advert",
            "promo",
            "sidebar",
        )
    ]
    + ['[id*="comments"]', '[role="navigation"]', '[role="complementary"]', '[aria-label*="share" i]']
)
_CHROME_HINT = re.compile(
    r"share|social|related|comment|newsletter|subscribe|author|byline|breadcrumb|cookie|advert|promo|"
    r"sidebar|navigation|complementary",
    re.IGNORECASE,
)
_BR_RE = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_HTML_SNIFF = re.compile(
    r"<(?:p|div|br|html|body|span|a|h[1-6]|li|ul|ol|article|section|img|strong|em|b|i|table|meta|"
    r"head|title|script|style|figure|blockquote)\b[^>]*>|&(?:[a-z]{2,8}|#\d{2,6}|#x[0-9a-f]{2,5});",
    re.IGNORECASE,
)
# Runs of whitespace collapse to one space. The regexes leave a lone plain space alone (replacing it
# with itself would rebuild the string once per word): they match runs of two or more, or one
# character that is not a plain space.
_SPACES = re.compile(
    r"[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}"
    r"|[\t\n\r\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)
_INLINE_SPACES = re.compile(
    r"[ \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]{2,}"
    r"|[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
)


def looks_like_html(raw: str) -> bool:
    """True when the input contains HTML markup or entities."""
    return _HTML_SNIFF.search(raw) is not None


def html_to_text(html: str) -> str:
    """Visible prose of an HTML document or fragment, paragraphs separated by blank lines."""
    if not html:
        return ""
    marked = _BR_RE.sub(_LINE, _BLOCK_RE.sub(lambda m: _PARA + m.group(0), html))
    # Text with a few tags mixed in keeps its blank-line paragraphs.
    marked = _BLANK_LINE.sub(_PARA, marked)
    tree = HTMLParser(marked)
    tree.strip_tags(list(_DROP_TAGS))
    if _CHROME_HINT.search(html):
        for node in tree.css(_CHROME_SELECTOR):
            # Only short blocks: a wrapper class like "shared-layout" must not take the article with it.
            if len(node.text(deep=True)) < 600:
                node.decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    raw = root.text(deep=True, separator="", strip=False)
    out: list[str] = []
    for block in raw.split(_PARA):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split(_LINE)]
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)
    return "\n\n".join(out)


_TITLE_SUFFIX = re.compile(r"^(?P<head>.{12,}?)\s+(?:\||–|—|::|-)\s+(?P<site>[^|–—]{2,40})$")


def title_from_html(html: str) -> str | None:
    """The document's headline: <title> (site name trimmed), og:title, or the first <h1>."""
    if not html:
        return None
    tree = HTMLParser(html)
    candidates: list[str] = []
    node = tree.css_first("title")
    if node is not None:
        candidates.append(node.text(deep=True))
    meta = tree.css_first('meta[property="og:title"]') or tree.css_first('meta[name="twitter:title"]')
    if meta is not None:
        candidates.append(meta.attributes.get("content") or "")
    h1 = tree.css_first("h1")
    if h1 is not None:
        candidates.append(h1.text(deep=True))
    for candidate in candidates:
        title = normalize_whitespace(repair(htmllib.unescape(candidate))).replace("\n", " ")
        if not title:
            continue
        match = _TITLE_SUFFIX.match(title)
        if match and len(match.group("site").split()) <= 4:
            title = match.group("head").strip()
        return title
    return None


# --------------------------------------------------------------------------------------------------
# Mojibake repair


def _cp874_table() -> dict[str, int]:
    """char -> byte for text that was UTF-8 but got decoded as Windows-874 (Thai).

    Decoders that produce this damage map the C1 range 0x80-0x9F through Windows-1252 and the upper
    half through the Thai code page, so the table covers both; bytes neither defines map to
    themselves (as "sloppy" decoders do).
    """
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        raw = bytes([byte])
        for codec in ("cp874", "cp1252"):
            try:
                char = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            table.setdefault(char, byte)
            break
        else:
            table.setdefault(chr(byte), byte)
    return table


_CP874 = _cp874_table()


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


_LEAD2 = _char_class([c for c, b in _CP874.items() if 0xC2 <= b <= 0xDF])
_LEAD3 = _char_class([c for c, b in _CP874.items() if 0xE0 <= b <= 0xEF])
_LEAD4 = _char_class([c for c, b in _CP874.items() if 0xF0 <= b <= 0xF4])
_CONT = _char_class([c for c, b in _CP874.items() if 0x80 <= b <= 0xBF])
# Runs of UTF-8 byte sequences spelled in cp874 characters.
_THAI_MOJIBAKE = re.compile(f"(?:{_LEAD4}{_CONT}{{3}}|{_LEAD3}{_CONT}{{2}}|{_LEAD2}{_CONT})+")
# Genuine Thai text almost never puts Windows-1252 punctuation (€, Ÿ, “, š ...) between Thai letters;
# mis-decoded UTF-8 nearly always does (the second byte of most symbols and emoji is 0x80-0x9F).
_C1_CHARS = frozenset(c for c, b in _CP874.items() if 0x80 <= b <= 0x9F)
_HAS_THAI = re.compile("[\u0e01-\u0e5b]")
# What is left of a symbol whose bytes the faulty decoder dropped (e.g. "โณ" for an hourglass).
_THAI_LEFTOVER = re.compile(f"[\u0e01-\u0e5b]{_CONT}*")
_LETTER = re.compile(r"[^\W\d_]")


def _fix_thai_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if not any(c in _C1_CHARS for c in run):
        return run
    try:
        return bytes(_CP874[c] for c in run).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return run


# A Latin-1 / cp1252 lead byte followed by a continuation byte: classic "Ã©", "â€™", "Â ".
_LATIN_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Pictographs, dingbats, variation selectors, joiners, C0/C1 controls and replacement characters:
# decoration in news text, and noise for matching and sentence splitting.
_NOISE = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe00-\ufe0f\u200b-\u200d\u2060\ufeff\ufffd\u0080-\u009f\U000e0000-\U000e007f"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)


_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
# The part of _NOISE that ASCII text can contain.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def repair(text: str) -> str:
    """Fix mojibake (UTF-8 read as cp874/Thai, cp1252 or Latin-1) and drop emoji and control noise."""
    if not text:
        return ""
    if text.isascii():
        # Plain ASCII can carry neither mojibake nor pictographs: only entities and control characters.
        if "&" in text and _ENTITY.search(text):
            text = htmllib.unescape(text)
            if not text.isascii():
                text = _NOISE.sub("", text)
                return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
        return _CONTROL.sub("", text) if _CONTROL.search(text) else text
    if _HAS_THAI.search(text):
        text = _THAI_MOJIBAKE.sub(_fix_thai_run, text)
        thai = len(_HAS_THAI.findall(text))
        if thai and thai * 5 < len(_LETTER.findall(text)):
            # Not a Thai text: remaining Thai letters are debris of symbols that cannot be restored.
            text = _THAI_LEFTOVER.sub("", text)
    if _LATIN_MOJIBAKE.search(text):
        text = ftfy.fix_text(text, uncurl_quotes=False, fix_line_breaks=False, unescape_html=False)
    if "&" in text and _ENTITY.search(text):
        text = htmllib.unescape(text)  # titles and summaries often arrive with "&amp;" still in them
    text = _NOISE.sub("", text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


# --------------------------------------------------------------------------------------------------
# Whitespace and paragraphs


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces within lines, trim lines, keep at most one blank line between blocks."""
    lines = [_INLINE_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        out.append(line)
    return "\n".join(out)


def paragraphs(text: str) -> list[str]:
    """Non-empty lines: plain-text inputs put headings and paragraphs on lines of their own."""
    return [p for p in (line.strip() for line in text.split("\n")) if p]


# --------------------------------------------------------------------------------------------------
# Boilerplate

_SHARE_WORDS = (
    r"share|shares|tweet|post|linkedin|facebook|twitter|x|email|e-mail|whatsapp|reddit|print|"
    r"telegram|pinterest|copy link|copy|link|flipboard|mastodon|bluesky|threads|save|comment|comments"
)
# Whole lines that are site chrome, never prose. Matched case-insensitively against a stripped line.
_BOILERPLATE_LINE = re.compile(
    r"^(?:"
    rf"(?:{_SHARE_WORDS})(?:[\s,/|·•]*(?:{_SHARE_WORDS}))*(?:\s+this(?:\s+(?:article|story|post))?)?"
    r"|share (?:this|on)\b.{0,40}"
    r"|post a comment|leave a (?:comment|reply)|write a comment|add a comment"
    r"|\d+ comments?|no comments?(?: yet)?"
    r"|join the (?:conversation|discussion)|view comments|show comments|comments? \(\d+\)"
    r"|previous (?:post|article|story)(?:\s*next (?:post|article|story))?|next (?:post|article|story)"
    r"|read (?:the )?original(?: article)?(?: on| at| from)?\b.{0,80}|original source\s*:.{0,80}"
    r"|source\s*:\s*.{0,60}|via\s*:?\s*\S+(?:\s+\S+){0,2}"
    r"|read more(?:\s*:.{0,120}|\s*(?:at|on)\b.{0,80}|\W*)|continue reading\W*"
    r"|read (?:the )?full (?:story|article)\W*"
    r"|(?:see )?also read\s*:.{0,150}"
    r"|(?:recommended|related|more|see also|read also)"
    r"(?: (?:articles?|posts?|stories|updates|news|reading|coverage|on this))?\s*(?::.{0,200})?"
    r"|(?:\d+|one|two|three|four|five)[- ]min(?:ute)?s?(?: read)?|reading time\s*:?.{0,20}"
    r"|advertisement|sponsored(?: content)?|ad|skip to (?:main )?content|back to top|scroll to top"
    r"|(?:sign up|subscribe)(?: now| today)?(?: (?:to|for) (?:our|the) .{0,60})?\W*|newsletter"
    r"|all (?:content )?rights (?:are )?(?:reserved|belong to .{0,60})\W*|(?:copyright|©).{0,100}"
    r"|ai-curated news aggregator\b.{0,120}|weekly ai recap|read this week'?s curated digest.{0,60}"
    r"|ai-generated analysis for this event\W*"
    r"|fresh(?:\s*collected in \d+\s*[mhd])?|collected in \d+\s*[mhd]"
    r"|(?:image|photo|picture)(?: credit)?s?\s*:.{0,120}|(?:tags?|topics|filed under|categories)\s*:.{0,200}"
    r"|click here.{0,60}|follow us(?: on)?.{0,60}|cookie.{0,120}|we use cookies.{0,200}"
    r"|(?:last )?(?:updated|published|posted)(?: on)?\s*:?\s*"
    r"(?:[a-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2} [a-z]{3,9}\.? \d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})"
    r"(?:[\w ,:.]{0,20})"
    r"|(?-i:[Bb]y\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3})*)"
    r"|home|menu|search|log ?in|sign in|register|close|loading\W*"
    r")$",
    re.IGNORECASE,
)
# "By X" must be a short byline, not a sentence that starts with "By": the regex above only matches
# capitalised names up to the line end, which a real sentence never is.
_AUTHOR_BOX = re.compile(
    r"^(?:(?:about the (?:author|writer)s?|author bio)\b(?:\s*:.{0,300})?"
    r"|(?-i:About [A-Z][\w.'-]+ [A-Z][\w.'-]+))\W*$",
    re.I,
)
_STRAY_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]{0,300})?/?>|<!--.*?-->")
_HAS_SEPARATOR = re.compile(r"[|•·›»/>→]")
_NAV_SPLIT = re.compile(r"\s*(?:\||•|·|›|»|/|>|→)\s*")
# Aggregator labels glued to a heading ("Future ImplicationsAI analysis grounded in cited sources").
_INLINE_CHROME = re.compile(r"\s*AI analysis grounded in cited sources\.?", re.IGNORECASE)
_ONLY_SYMBOLS = re.compile(r"^[\W_]+$")
_LEADING_BULLETS = re.compile(r"^(?:[•▪●◦‣∙·*\-–—]\s*)+(?=\w|[\"'“‘(])")


def _is_nav(line: str) -> bool:
    """Breadcrumbs and menus: three or more very short segments joined by separators; page footers
    like "Headline | Outlet | Site"."""
    if len(line) > 200:
        return False
    bars = line.split(" | ")
    if len(bars) >= 3 and all(len(p.split()) <= 4 for p in bars[1:]):
        return True
    parts = [p for p in _NAV_SPLIT.split(line) if p]
    if len(parts) < 3:
        return False
    return all(len(p.split()) <= 4 and not p.endswith((".", "!", "?")) for p in parts)


def _key(line: str) -> str:
    # Cheap on purpose: repeated titles differ at most in case, spacing and final punctuation.
    return " ".join(line.casefold().split()).rstrip(".!?:;…")


def strip_boilerplate(text: str) -> str:
    """Drop share buttons, comment prompts, navigation, author boxes, aggregator footers, stray tags
    and repeated lines; return paragraphs separated by blank lines."""
    if "<" in text:
        text = _STRAY_TAG.sub(" ", text)
    lines = paragraphs(_INLINE_SPACES.sub(" ", text))
    kept: list[str] = []
    seen: set[str] = set()
    total = len(lines)
    skip_author = 0
    for index, line in enumerate(lines):
        if not line[0].isalnum():
            line = _LEADING_BULLETS.sub("", line).strip()
        if "grounded" in line:
            line = _INLINE_CHROME.sub("", line).strip()
        if not line or _ONLY_SYMBOLS.match(line):
            continue
        if _AUTHOR_BOX.match(line):
            # An author box near the end takes the rest of the page with it; elsewhere only the
            # short bio paragraph after the heading.
            if index >= total * 0.6:
                break
            skip_author = 1
            continue
        if skip_author:
            skip_author = 0
            if len(line) < 400:
                continue
        if len(line) <= 200 and (
            _BOILERPLATE_LINE.match(line) or (_HAS_SEPARATOR.search(line) and _is_nav(line))
        ):
            continue
        key = _key(line)
        if not key:
            continue
        if key in seen:
            continue
        seen.add(key)
        kept.append(line)
    return "\n\n".join(kept)


# --------------------------------------------------------------------------------------------------
# The entry point


def clean(raw: str) -> str:
    """HTML or text in -> repaired, boilerplate-free plain text, paragraphs separated by blank lines."""
    if not raw:
        return ""
    text = html_to_text(raw) if looks_like_html(raw) else raw
    text = repair(text)
    return strip_boilerplate(text)


# --------------------------------------------------------------------------------------------------
# Sentences

_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft sen rep gov gen col lt sgt capt cmdr adm pres rev hon
    inc corp co ltd llc plc bros dept div est approx vs etc al fig figs no nos vol vols pp op
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thurs fri sat sun
    u.s u.k u.n e.u u.s.a e.g i.e a.m p.m n.a s.a a.g n.v b.v p.l.c d.c
    """.split()
)
# A sentence ends at . ! ? … (plus closing quotes/brackets) followed by space and something that can
# start a sentence, or at CJK full stops.
_BOUNDARY = re.compile(
    r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9\u00c0-\u00de\u0400-\u042f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af])"
    r"|[。！？]+[」』”）)]*"
)
_LAST_TOKEN = re.compile(r"(\S+)$")


def _ends_with_abbreviation(chunk: str) -> bool:
    match = _LAST_TOKEN.search(chunk.rstrip("\"'”’)]"))
    if match is None:
        return False
    token = match.group(1)
    if not token.endswith("."):
        return False
    word = token[:-1].lstrip("\"'“‘([").casefold()
    if word in _ABBREVIATIONS:
        return True
    # Initials ("J. Smith", "A.I.") and single letters.
    return (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def sentences(text: str) -> list[str]:
    """Split text into sentences; paragraphs and headings never merge; abbreviations and decimals
    ("U.S.", "Corp.", "1.2 GW") do not end a sentence."""
    out: list[str] = []
    for para in paragraphs(text):
        start = 0
        for match in _BOUNDARY.finditer(para):
            if _ends_with_abbreviation(para[start : match.end()]):
                continue
            sentence = para[start : match.end()].strip()
            start = match.end()
            if sentence:
                out.append(sentence)
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return out


# --------------------------------------------------------------------------------------------------
# Hashing

_NON_WORD = re.compile(r"[\W_]+")


def content_hash(title: str, text: str) -> str:
    """Stable hex digest of title+text, insensitive to case, whitespace and punctuation."""
    norm = _NON_WORD.sub(" ", f"{title}\n{text}".casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()
