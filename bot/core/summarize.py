"""The extractive card for one story (pure).

Every sentence on the card is copied from the story's articles, except `what_to_do_next` (guidance
derived from topics, imperative) and a fallback `why_it_matters` line that says it is derived.
Sentences are picked by cheap features computed once per sentence: does it name the story's main
entity, an event, a figure; does it look like a question, a quote fragment or site boilerplate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from bot.core.dates import find_dates
from bot.core.guidance import audiences_for, next_steps
from bot.core.stories import DATELINE, ENGLISH_MARKERS, split_sentences
from bot.models import Article, Card, SourceRef, TimelineEvent, Triage

# A derived line (not from an article) starts with this, so readers and checks can tell.
DERIVED_PREFIX = "Context (derived from the story's topics, not quoted): "

MAX_ARTICLES = 8  # a story's card draws on its leading reports; later ones repeat them
MAX_SENTENCES = 45  # per article
MIN_WORDS, MAX_WORDS = 6, 70
MAX_CHARS = 420
NEAR_DUPLICATE = 0.5  # content-word Jaccard above which two sentences say the same thing
MAX_TIMELINE = 8

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_](?:[\w'’]*[^\W_])?")
def _forms(stems: str) -> frozenset[str]:
    """Word forms for a list of verbs/nouns: "launch" -> launch, launches, launched, launching."""
    out: set[str] = set()
    for stem in stems.split():
        out.update((stem, stem + "s", stem + "es", stem + "ed", stem + "d", stem + "ing"))
        if stem.endswith("e"):
            out.add(stem[:-1] + "ing")
    return frozenset(out)


# Word sets instead of big regexes: one set intersection per sentence is far cheaper.
_EVENT = _forms(
    """announce launch unveil introduce release ban restrict bar curb block approve withdraw rescind
    revoke acquire merge buy sign invest raise fund build construct open plan delay postpone sue fine
    order hire recruit train deploy ship report post expand cut add secure win agree partner confirm
    use develop struggle seek advertise earn reveal smuggle halt suspend lift impose file start
    finish complete close pass clear receive award select pick name adopt publish issue unveil
    commit reach begin end resume require allow grant score land book"""
) | frozenset(
    """bought built won told withdrew funding earnings revenue sold began begun shipped shipping
    shipments planned planning deal agreement contract investment acquisition launch rule""".split()
)
_CONSEQUENCE = _forms(
    """mean signal underscore highlight threaten risk impact boost hurt allow enable limit hinder force
    undermine depend"""
) | frozenset(
    """could would might because implications pressure critical crucial effectiveness competitiveness
    cost costs shortage shortages reliance dependence consequences questions concerns""".split()
)
_FORWARD = _forms("expect plan intend forecast schedule") | frozenset(
    "will likely slated upcoming poised next could aims".split()
)
_FIRST_PERSON = frozenset("i we our us my me let's i'm we're i've we've".split())
# A wire dateline before the lead: "SAN FRANCISCO, Oct 23 (Global Wire) - ".
_DATELINE = DATELINE
_ENGLISH = ENGLISH_MARKERS
# A brief's section label before the sentence: "What happened: BIS issued ...".
_LABEL = re.compile(
    r"^(?i:what happened|what it means(?: for [\w -]{1,30})?|why it matters(?: for [\w -]{1,30})?|"
    r"the bottom line|bottom line|the takeaway|key takeaway|the news|the headline|our view|context)"
    r"\s*:\s+(?=[A-Z0-9])",  # only when what follows is itself a sentence
)
_BY_YEAR = re.compile(r"\b(?:by|in|from|until|through) ((?:19|20)\d\d)\b")
_FIGURE = re.compile(r"\d")
_CJK_CHARS = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_BOILERPLATE = re.compile(  # matched against lower-cased text
    r"\b(?:click|subscribe|sign up|newsletter|cookies?|all rights reserved|advertisement|read more|"
    r"read original|write a comment|post a comment|share this|follow us|related (?:articles|updates)|"
    r"copyright|terms of (?:use|service)|privacy policy|log ?in|min read|this article|this story|"
    r"photo:|image:|credit:|getty images|reuters/|ap photo|ai-generated|ai-curated|curated digest)\b"
    r"|https?://|www\.|@\w|©",
)
_END = re.compile(r"[.!。！।؟\"'”’)\]]$")
_END_CHARS = frozenset(".!。！।؟\"'”’)]")
_OPEN_QUOTES = "\"“«„"
_STOP = frozenset(
    """a an and are as at be been but by for from has have in into is it its of on or that the their
    this to was were which with will would said says""".split()
)


def norm(text: str) -> str:
    """Whitespace-normalised text: what the faithfulness check compares."""
    return _WS.sub(" ", text).strip()


@dataclass(slots=True, eq=False)  # identity: `in chosen` means this very sentence
class _Sentence:
    text: str
    article: int  # rank of its article in the story
    position: int  # index within the article
    words: frozenset[str]
    figure: bool
    event: bool
    consequence: int  # consequence/stakes words
    forward: int  # forward-looking words
    entities: int  # how many of the story's named entities it mentions
    main: bool  # mentions the main entity
    ok: bool  # passes the quality filters (not a question, fragment or boilerplate)
    personal: bool = False  # first person: an opinion or a column, not a report
    dateline: bool = False  # opened with a wire dateline (the report's lead)


# A story's card is rebuilt each time the story gains an article, from all of its articles: the
# per-article work (sentences, language) is kept for recent texts instead of being redone.
@lru_cache(maxsize=1024)
def _sentences_of(text: str) -> tuple[str, ...]:
    try:
        from bot.core.text import sentences
    except ImportError:  # the text module is not available: fall back to the cheap splitter
        return tuple(split_sentences(text))
    return tuple(sentences(text))


def _acceptable(sentence: str, lower: str, n_words: int) -> bool:
    if not MIN_WORDS <= n_words <= MAX_WORDS or len(sentence) > MAX_CHARS:
        return False
    first = sentence[0]
    if first.islower() or first in _OPEN_QUOTES or first in "-–—•*|([":
        return False
    # The last character decides (the pattern's "$" also allows one trailing line break).
    ends = sentence[-1] in _END_CHARS or (sentence.endswith("\n") and _END.search(sentence) is not None)
    if sentence.endswith("?") or not ends:
        return False
    if sentence.count('"') % 2 or sentence.count("“") != sentence.count("”"):
        return False
    return not _BOILERPLATE.search(lower)


def _cjk_count(text: str) -> int:
    return 0 if text.isascii() else len(_CJK_CHARS.findall(text))


def _content_words(lower: str) -> frozenset[str]:
    return frozenset(_WORD.findall(lower)) - _STOP


@lru_cache(maxsize=1024)
def _is_english(text: str) -> bool:
    words = _WORD.findall(text[:1500].lower())
    return bool(words) and sum(map(_ENGLISH.__contains__, words)) >= 0.12 * len(words)


def _overlap(words: frozenset[str], title: set[str]) -> float:
    """Share of the sentence's content words that also appear in a headline of the story."""
    return len(words & title) / len(words) if words else 0.0


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


_TYPE_WEIGHT = {"organization": 1.0, "regulator": 0.9, "person": 0.7, "product": 0.7, "place": 0.4}


def _ranked_entities(items: Sequence[tuple[Article, Triage]]) -> list[tuple[str, str]]:
    """(name, type) of the story's named entities, most central first: named in headlines and leads
    of many reports; organisations before products and places."""
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    types: dict[str, str] = {}
    for article, triage in items[:MAX_ARTICLES]:
        title = article.title.lower()
        head = (article.title + " " + article.text[:400]).lower()
        for pos, entity in enumerate(triage.entities):
            weight = _TYPE_WEIGHT.get(entity.type)
            if weight is None:
                continue
            name = entity.name
            order.setdefault(name, pos)
            types.setdefault(name, entity.type)
            lower = name.lower()
            score = 0.2 + 3.0 * (lower in title) + 1.0 * (lower in head)
            scores[name] = scores.get(name, 0.0) + score * weight
    ranked = sorted(scores, key=lambda n: (-scores[n], order[n]))
    return [(name, types[name]) for name in ranked]


def _source_name(article: Article) -> str:
    if article.source:
        return article.source
    if article.url:
        host = urlsplit(article.url).hostname or article.url
        return host.removeprefix("www.")
    return article.id


def summarize(
    items: Sequence[tuple[Article, Triage]],
    *,
    history: Sequence[TimelineEvent] = (),
    vocab: Any = None,
) -> Card:
    """One card for a story whose articles are `items` (most important / earliest first)."""
    if not items:
        raise ValueError("summarize: a story needs at least one article")
    used = list(items[:MAX_ARTICLES])
    lead_article = used[0][0]
    ranked_entities = _ranked_entities(used)
    main = ranked_entities[0][0] if ranked_entities else None
    main_lower = main.lower() if main else None
    # Guidance names who is affected, not the regulator acting or the place.
    subject = next((n for n, t in ranked_entities if t in ("organization", "product")), None)
    # Timeline events are about the story's leading actors.
    actors = [n.lower() for n, t in ranked_entities[:3] if t != "place"]
    names = {
        e.name.lower()
        for _, t in used
        for e in t.entities
        if e.type in ("organization", "product", "regulator", "person", "place") and len(e.name) > 1
    }
    topics: list[str] = []
    for _, t in items:
        for topic in t.topics:
            if topic not in topics:
                topics.append(topic)
    relevant = any(t.relevant for _, t in items)

    # The card speaks the language of its English reports when there are any; other-language
    # reports then only count towards the story, not its sentences.
    english = [_is_english(article.text) for article, _ in used]
    title_words: set[str] = set()
    pool: list[_Sentence] = []
    texts: list[str] = []  # normalised article texts (with title) for the faithfulness guard
    for rank, (article, _) in enumerate(used):
        texts.append(norm(article.title + "\n" + article.text))
        if any(english) and not english[rank]:
            continue
        title_norm = norm(article.title).lower()
        title_words |= _content_words(title_norm)
        year = article.published.year if article.published else None
        for position, raw in enumerate(_sentences_of(article.text)[:MAX_SENTENCES]):
            normalized = norm(raw)
            dateline = _DATELINE.match(normalized)
            text = normalized[dateline.end() :] if dateline else normalized
            if ":" in text[:40]:
                text = _LABEL.sub("", text, count=1)
            if not text or text.lower() == title_norm:
                continue
            lower = text.lower()
            words = _content_words(lower)
            mentioned = sum(map(lower.__contains__, names))
            figure = bool(_FIGURE.search(text))
            forward = len(words & _FORWARD)
            if figure and year is not None:
                # "by 2028" looks forward only from an article written before 2028.
                forward += any(int(y) >= year for y in _BY_YEAR.findall(lower))
            pool.append(
                _Sentence(
                    text=text,
                    article=rank,
                    position=position,
                    words=words,
                    figure=figure,
                    event=not words.isdisjoint(_EVENT),
                    consequence=len(words & _CONSEQUENCE),
                    forward=forward,
                    entities=mentioned,
                    main=bool(main_lower and main_lower in lower),
                    # CJK text has no spaces: count about one word per three characters.
                    ok=_acceptable(text, lower, len(words) + 2 + _cjk_count(text) // 3),
                    personal=not words.isdisjoint(_FIRST_PERSON),
                    dateline=dateline is not None,
                )
            )
    good = [s for s in pool if s.ok and s.text in texts[s.article]]

    chosen: list[_Sentence] = []

    def distinct(s: _Sentence) -> bool:
        return all(_jaccard(s.words, c.words) < NEAR_DUPLICATE for c in chosen)

    # What changed: a lead sentence naming the main entity and an event.
    leads = [s for s in good if s.position < 4 and not s.personal]
    # The first report of an event usually states it most plainly.
    dated = [i for i, (a, _) in enumerate(used) if a.published is not None]
    earliest = min(dated, key=lambda i: (used[i][0].published, i)) if dated else 0
    what = max(
        leads or good,
        key=lambda s: (
            2.0 * s.main + 2.0 * s.event + 0.5 * s.figure + 0.4 * min(s.entities, 3)
            + 3.0 * _overlap(s.words, title_words) + 1.0 * s.dateline
            - 0.5 * s.position - 0.3 * s.article + 1.0 * (s.article == earliest)
            # Bullet fragments ("Up to $10B from Nvidia: new investment") are not a lead.
            - 1.0 * (": " in s.text[:60]) - 1.5 * (len(s.words) < 12)
        ),
        default=None,
    )
    what_changed = what.text if what else norm(lead_article.title)
    if what:
        chosen.append(what)

    # Why it matters: a sentence about consequences or stakes.
    why_candidates = [s for s in good if s.consequence and len(s.words) >= 8 and distinct(s)]
    why = max(
        why_candidates,
        key=lambda s: (
            s.consequence + 0.6 * s.figure + 0.5 * s.main + 0.3 * min(s.entities, 3)
            - 0.03 * s.position - 0.3 * s.article - 1.5 * s.personal - 0.5 * (len(s.words) < 12)
        ),
        default=None,
    )
    if why:
        chosen.append(why)
        why_it_matters = why.text
    else:
        why_it_matters = _derived_why(topics, relevant)

    # Future implications: forward-looking sentences not already on the card.
    future: list[_Sentence] = []
    for s in sorted(
        (s for s in good if s.forward and not s.dateline and s not in chosen),
        key=lambda s: -(
            s.forward + 0.5 * s.main + 0.3 * s.figure - 0.02 * s.position - 1.0 * s.personal
        ),
    ):
        if len(future) >= 3:
            break
        if distinct(s):
            future.append(s)
            chosen.append(s)

    # Key takeaways: distinct, informative sentences (figures, names, events), 3 to 5.
    ranked = sorted(
        (s for s in good if s not in chosen),
        key=lambda s: -(
            1.5 * s.figure + 0.7 * min(s.entities, 3) + 0.8 * s.event + 0.5 * s.main
            - 0.06 * s.position - 0.2 * s.article - 1.0 * s.personal
        ),
    )
    takeaways: list[_Sentence] = []
    for s in ranked:
        if len(takeaways) >= 5:
            break
        if distinct(s):
            takeaways.append(s)
            chosen.append(s)
    takeaways.sort(key=lambda s: (s.article, s.position))

    # Names in other scripts rarely match the canonical (Latin) entity names: there, any dated
    # sentence of the reports counts.
    timeline = _timeline(
        items, [s for s in good if s is not what], actors if any(english) else [], history
    )

    sources: list[SourceRef] = []
    seen: set[str] = set()
    for article, _ in items:
        name = _source_name(article)
        if name not in seen:
            seen.add(name)
            sources.append(SourceRef(name=name, url=article.url))

    return Card(
        title=norm(used[what.article][0].title) if what else norm(lead_article.title),
        what_changed=what_changed,
        why_it_matters=why_it_matters,
        who_should_care=audiences_for(topics, vocab) if relevant else (),
        what_to_do_next=next_steps(topics, subject, relevant=relevant),
        key_takeaways=tuple(s.text for s in takeaways),
        future_implications=tuple(s.text for s in future),
        timeline=timeline,
        sources=tuple(sources),
    )


def brief_card(article: Article) -> Card:
    """A minimal card for an article outside AI infrastructure: its headline and where it came from.
    Nobody is alerted about it, so it is not worth the full extraction."""
    title = norm(article.title) or norm(article.text[:200])
    return Card(
        title=title,
        what_changed=title,
        why_it_matters=_derived_why((), False),
        who_should_care=(),
        what_to_do_next=next_steps((), None, relevant=False),
        key_takeaways=(),
        future_implications=(),
        timeline=(),
        sources=(SourceRef(name=_source_name(article), url=article.url),),
    )


_TOPIC_STAKES = {
    "export-controls": "export rules decide which accelerators can be sold where",
    "chips": "accelerator supply sets how much AI compute can be built",
    "datacenter": "new capacity changes where AI workloads can run",
    "energy": "power availability limits how fast AI capacity can grow",
    "cloud-capacity": "GPU capacity and pricing shape what teams can train and serve",
    "supply-chain": "component supply determines delivery times for AI hardware",
    "funding-deals": "money committed now turns into compute purchases later",
    "models-compute": "the compute behind models drives demand for infrastructure",
    "policy": "government measures change the rules for building and selling AI infrastructure",
}


def _derived_why(topics: Sequence[str], relevant: bool) -> str:
    stakes = [_TOPIC_STAKES[t] for t in topics if t in _TOPIC_STAKES][:2]
    if not relevant or not stakes:
        return DERIVED_PREFIX + "no stated consequence in the reports."
    return DERIVED_PREFIX + "; ".join(stakes) + "."


def _timeline(
    items: Sequence[tuple[Article, Triage]],
    pool: Sequence[_Sentence],
    actors: Sequence[str],
    history: Sequence[TimelineEvent],
) -> tuple[TimelineEvent, ...]:
    """Dated events about the story's leading actors, merged with earlier stored events: the first
    report (its date and headline), then dated sentences, at most one per date."""
    dated = [a for a, _ in items if a.published is not None]
    current: dict[str, TimelineEvent] = {}
    if dated:
        first = min(dated, key=lambda a: a.published or datetime.min)
        assert first.published is not None
        day = first.published.date().isoformat()
        current[day] = TimelineEvent(day, norm(first.title))
    for s in pool:
        lower = s.text.lower()
        if actors and not any(actor in lower for actor in actors):
            continue
        published = items[s.article][0].published
        found = find_dates(s.text, published)
        if not found or found[0].iso in current:
            continue
        iso = found[0].iso
        # A bare future year ("through 2030") is an outlook, not an event; a scheduled date is.
        if len(iso) == 4 and published is not None and int(iso) > published.year:
            continue
        current[iso] = TimelineEvent(iso, s.text)
    out: list[TimelineEvent] = []
    seen: set[str] = set()
    for event in sorted([*history, *current.values()], key=lambda e: (e.date, e.event)):
        key = norm(event.event).lower()
        if key and key not in seen:
            seen.add(key)
            out.append(event)
    if len(out) > MAX_TIMELINE:
        out = out[-MAX_TIMELINE:]
    return tuple(out)
