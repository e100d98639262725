# ruff: noqa: E501  (the sample articles are prose)
"""Story clustering.

The labelled samples here (reused by other core tests) were written for these tests: several outlets
per event, in different words, next to confusable events about the same companies and topics.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.stories import (
    StoryFeatures,
    StoryIndex,
    _figures_at,
    event_types,
    features,
    figures,
    story_id_for,
)
from bot.models import Article, Entity, Triage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _a(aid: str, story: str, hours: float, source: str, title: str, text: str) -> tuple[Article, str]:
    art = Article(
        id=aid,
        title=title,
        text=text,
        source=source,
        url=f"https://{source.lower().replace(' ', '')}.example/{aid}",
        published=T0 + timedelta(hours=hours),
    )
    return art, story


SAMPLES: list[tuple[Article, str]] = [
    # -- a chipmaker's launch ...
    _a("launch-1", "launch", 0, "Chip Ledger", "Nvidia unveils Vera accelerator with 288 GB of memory",
       "Nvidia on Monday unveiled its Vera accelerator, a data-center chip with 288 GB of HBM4 memory. "
       "Chief executive Jensen Huang showed the part on stage at the company's developer conference in "
       "San Jose. Nvidia said Vera delivers 3.3 times the training throughput of the previous generation. "
       "Cloud providers are expected to offer it in the second half of the year."),
    _a("launch-2", "launch", 5, "Silicon Desk", "Huang takes the wraps off Vera, Nvidia's next AI chip",
       "At its annual developer gathering in San Jose, Nvidia introduced Vera, the successor to its "
       "current flagship AI processor. The chip carries 288 GB of high-bandwidth memory. Huang told the "
       "audience that hyperscalers will get the first units later this year. Analysts said the launch "
       "keeps pressure on AMD's MI400 line."),
    _a("launch-3", "launch", 20, "Wire One", "Nvidia launches Vera GPU, promising 3.3x faster training",
       "Nvidia launched a new graphics processor for data centers named Vera. The company claimed a 3.3x "
       "gain in training speed over its predecessor. The product was presented in San Jose on Monday."),
    # -- ... and its quarterly results a month later
    _a("earn-1", "earnings", 24 * 30, "Wire One", "Nvidia revenue jumps 62% as data-center sales climb",
       "Nvidia reported first-quarter revenue of $58.2 billion, up 62% from a year earlier, driven by "
       "data-center sales. The chipmaker forecast second-quarter revenue of about $63 billion, above "
       "analyst estimates. Shares rose 4% in extended trading."),
    _a("earn-2", "earnings", 24 * 30 + 3, "Market Tape", "Nvidia beats estimates with $58.2bn quarter",
       "Nvidia's quarterly sales reached $58.2bn, beating Wall Street forecasts. Data-center revenue made "
       "up most of the total. The company guided to roughly $63bn for the current quarter and said demand "
       "for its Vera chips is strong."),
    # -- an export rule announced ...
    _a("rule-1", "rule", 24 * 3, "Policy Wire", "US curbs AI chip exports to Gulf states with new license rule",
       "The Commerce Department's Bureau of Industry and Security issued a rule requiring licenses for "
       "shipments of advanced AI accelerators to the United Arab Emirates and Saudi Arabia. The rule caps "
       "each country at 320,000 GPUs through 2027. Officials said the measure is meant to stop diversion of "
       "chips to China."),
    _a("rule-2", "rule", 24 * 3 + 6, "Chip Ledger", "New BIS rule sets 320,000-GPU cap for UAE and Saudi Arabia",
       "Washington will require export licenses before Nvidia and AMD can ship top AI chips to the UAE and "
       "Saudi Arabia, under a rule published by the Bureau of Industry and Security. Each country may "
       "receive at most 320,000 GPUs through 2027. Gulf data-center builders had planned far larger orders."),
    _a("rule-3", "rule", 24 * 4, "Gulf Business Daily", "Gulf AI projects face licence hurdle under US rule",
       "A US export rule now forces chipmakers to obtain licences for AI accelerator sales to Saudi Arabia "
       "and the UAE. The Bureau of Industry and Security said the cap of 320,000 GPUs per country runs "
       "through 2027. Local developers said the restriction could slow their campus plans."),
    # -- ... and the same rule withdrawn three weeks later
    _a("withdraw-1", "withdraw", 24 * 24, "Policy Wire", "Commerce withdraws Gulf AI chip license rule",
       "The Commerce Department withdrew the rule that required licenses for AI chip exports to the UAE "
       "and Saudi Arabia, three weeks after publishing it. The Bureau of Industry and Security said it will "
       "draft a replacement. The 320,000-GPU country cap no longer applies."),
    _a("withdraw-2", "withdraw", 24 * 24 + 4, "Chip Ledger", "US rescinds cap on AI chip shipments to Gulf",
       "Washington rescinded its licensing requirement for advanced AI accelerators bound for Saudi Arabia "
       "and the United Arab Emirates. Nvidia and AMD can resume shipments without a license while the "
       "Bureau of Industry and Security writes a new framework."),
    # -- three different DeepSeek events in the same week
    _a("ds-smuggle-1", "ds-smuggle", 48, "Asia Tech Report", "DeepSeek trained new model on smuggled Blackwell chips",
       "Chinese AI developer DeepSeek trained its newest model on Nvidia Blackwell chips that were brought "
       "into China despite US export bans, people familiar with the matter said. The servers sit in a data "
       "center in Inner Mongolia. Markings that could identify the chips' origin were removed."),
    _a("ds-smuggle-2", "ds-smuggle", 52, "Wire One", "Banned Nvidia Blackwell GPUs found in DeepSeek's Inner Mongolia cluster",
       "DeepSeek is using Nvidia Blackwell accelerators that cannot legally be exported to China, according "
       "to two sources. The hardware is housed at a facility in Inner Mongolia. The report raises questions "
       "about how well US controls are enforced."),
    _a("ds-hire-1", "ds-hire", 50, "Digital Semis", "DeepSeek recruits chip designers for in-house AI processor",
       "DeepSeek has begun hiring semiconductor design engineers, job listings show, signalling plans to "
       "build its own AI processor. The postings seek experts in chip architecture and compilers in "
       "Hangzhou. The company has not confirmed a chip program."),
    _a("ds-hire-2", "ds-hire", 60, "Asia Tech Report", "DeepSeek job ads point to custom silicon effort",
       "A wave of job ads from DeepSeek for chip architects and verification engineers suggests the AI "
       "start-up wants its own accelerator. The Hangzhou-based firm posted more than 20 roles. Analysts "
       "said designing a chip could take years."),
    _a("ds-delay-1", "ds-delay", 55, "The Compute Letter", "DeepSeek's R2 model delayed by H20 shortage",
       "DeepSeek has pushed back the release of its R2 reasoning model because it cannot get enough Nvidia "
       "H20 chips, two people said. New US licence requirements halted H20 shipments to China. Chief "
       "executive Liang Wenfeng is not satisfied with R2's performance."),
    _a("ds-delay-2", "ds-delay", 58, "Wire One", "H20 curbs stall DeepSeek R2 launch",
       "The launch of DeepSeek's R2 has slipped as the start-up struggles to obtain Nvidia H20 processors "
       "after Washington required export licences for them. Chinese cloud customers running its R1 model "
       "also face capacity limits."),
    # -- two data-center campuses in the same week
    _a("msft-1", "msft-campus", 30, "DC Frontier", "Microsoft plans 1.2 GW AI campus in Wisconsin",
       "Microsoft will build a 1.2 GW data-center campus in Mount Pleasant, Wisconsin, for AI training. "
       "The company said the first phase will come online in 2027. We Energies will supply power from a "
       "new gas plant and solar farms."),
    _a("msft-2", "msft-campus", 36, "Grid Watch", "We Energies to power Microsoft's 1.2-gigawatt Mount Pleasant site",
       "Utility We Energies agreed to deliver 1.2 gigawatts to Microsoft's planned AI data center in Mount "
       "Pleasant. The campus will be built in phases starting this year, with the first buildings in "
       "service in 2027."),
    _a("meta-1", "meta-campus", 32, "DC Frontier", "Meta breaks ground on 2 GW Louisiana data center",
       "Meta started construction of a 2 GW AI data center in Richland Parish, Louisiana. Entergy will "
       "build three gas turbines to power the site. Meta expects the campus to host more than a million "
       "GPUs by 2030."),
    _a("meta-2", "meta-campus", 40, "Grid Watch", "Entergy gas plants approved for Meta's Richland Parish campus",
       "Louisiana regulators approved Entergy's plan for three gas-fired plants serving Meta's new data "
       "center in Richland Parish. The facility is designed for 2 GW of load when complete."),
    # -- a funding round
    _a("cw-1", "coreweave-debt", 70, "Market Tape", "CoreWeave secures $7.5 billion debt facility",
       "GPU cloud provider CoreWeave raised $7.5 billion in debt financing led by Blackstone and Magnetar. "
       "The money will pay for Nvidia GPUs and data-center leases."),
    _a("cw-2", "coreweave-debt", 75, "Chip Ledger", "Blackstone leads $7.5bn loan to CoreWeave",
       "CoreWeave has closed a $7.5bn private credit deal with Blackstone as lead lender. The GPU cloud "
       "company plans to spend it on accelerators for its expanding fleet."),
]


def grouped(samples: list[tuple[Article, str]]) -> dict[str, str]:
    return {article.id: story for article, story in samples}


# -- tests ------------------------------------------------------------------------------------


def cluster(samples: list[tuple[Article, str]], *, dated: bool = True) -> dict[str, str]:
    index = StoryIndex(window=timedelta(hours=96))
    feats = [(a, features(a)) for a, _ in samples]
    for _, f in feats:
        index.learn(f)
    out: dict[str, str] = {}
    for article, f in sorted(feats, key=lambda x: (x[0].published or T0, x[0].id)):
        when = article.published if dated and article.published else T0
        out[article.id] = index.assign(article.id, f, when, learn=False).story_id
    return out


def same_partition(pred: dict[str, str], gold: dict[str, str]) -> list[str]:
    """Differences between two groupings, as readable lines (empty when they agree)."""
    problems = []
    ids = sorted(gold)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if (pred[a] == pred[b]) != (gold[a] == gold[b]):
                problems.append(f"{a} {'==' if pred[a] == pred[b] else '!='} {b}")
    return problems


def test_outlets_join_one_story_and_confusable_events_stay_apart() -> None:
    assert same_partition(cluster(SAMPLES), grouped(SAMPLES)) == []


def test_without_dates_event_content_alone_separates_stories() -> None:
    # All at one instant: the time window cannot help; the launch/earnings and the rule/withdrawal
    # pairs must be kept apart by what the articles say.
    assert same_partition(cluster(SAMPLES, dated=False), grouped(SAMPLES)) == []


def test_story_id_is_derived_from_the_founding_article() -> None:
    pred = cluster(SAMPLES)
    assert pred["launch-2"] == story_id_for("launch-1")
    assert story_id_for("launch-1") == story_id_for("launch-1")
    assert story_id_for("launch-1").startswith("s-")


def test_outside_the_window_the_same_words_found_a_new_story() -> None:
    index = StoryIndex(window=timedelta(hours=96))
    article = SAMPLES[0][0]
    copy = Article(id="copy", title=article.title, text=article.text, published=T0 + timedelta(days=9))
    first = index.assign(article.id, features(article), T0)
    near = index.assign("near", features(copy), T0 + timedelta(hours=30))
    far = index.assign("far", features(copy), T0 + timedelta(days=12))
    assert first.created and not near.created and near.story_id == first.story_id
    assert far.created and far.story_id != first.story_id


def test_wire_copy_merges_even_when_first_seen_alone() -> None:
    index = StoryIndex()
    a = SAMPLES[5][0]
    reprint = Article(id="reprint", title=a.title.upper(), text=a.text.replace(". ", ".\n\n"))
    index.assign(a.id, features(a), T0)
    result = index.assign(reprint.id, features(reprint), T0 + timedelta(hours=1))
    assert not result.created
    assert result.score > 0.9


def test_new_facts_name_what_a_follow_up_adds() -> None:
    index = StoryIndex()
    first = SAMPLES[0][0]  # launch-1: Nvidia, San Jose, 3.3 times
    follow = SAMPLES[1][0]  # launch-2 adds AMD's MI400
    nvidia = Entity("Nvidia", "organization")
    first_triage = Triage(True, 0.9, ("chips",), (nvidia, Entity("San Jose", "place")), 60, "")
    follow_triage = Triage(
        True, 0.9, ("chips",), (nvidia, Entity("AMD", "organization"), Entity("MI400", "product")), 60, ""
    )
    index.assign(first.id, features(first, first_triage), T0)
    result = index.assign(follow.id, features(follow, follow_triage), T0 + timedelta(hours=5))
    assert not result.created
    assert "Nvidia" not in result.new_facts
    assert "AMD" in result.new_facts and "MI400" in result.new_facts


def test_state_and_restore_keep_joining_reports_after_a_restart() -> None:
    index = StoryIndex()
    rule = SAMPLES[5][0]
    created = index.assign(rule.id, features(rule), rule.published or T0)
    saved = index.state(created.story_id)
    import json

    restored = StoryIndex()
    restored.restore(created.story_id, json.loads(json.dumps(saved)))
    second = SAMPLES[6][0]
    result = restored.assign(second.id, features(second), second.published or T0)
    assert result.story_id == created.story_id and not result.created


def test_expire_drops_old_stories() -> None:
    index = StoryIndex()
    for article, _ in SAMPLES[:3]:
        index.assign(article.id, features(article), article.published or T0)
    assert len(index) == 1
    assert index.expire(T0 + timedelta(days=30)) == 1
    assert len(index) == 0
    late = SAMPLES[2][0]
    again = index.assign("again", features(late), T0 + timedelta(days=30, hours=1))
    assert again.created


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("a $10bn deal", "usd:1e+10"),
        ("a $10 billion deal", "usd:1e+10"),
        ("1.2 GW of power", "mw:1.2e+03"),
        ("1,200 MW of power", "mw:1.2e+03"),
        ("50,000 Nvidia GPUs", "n:5e+04"),
        ("fifty sites and 50k GPUs", "n:5e+04"),
        ("up 62% from", "pct:62"),
        ("added 14 Chinese companies", "n:14"),
        # The same amount across languages and currency codes.
        ("operating profit of KRW 9.1 trillion", "usd:9.1e+12"),
        ("营业利润9.1万亿韩元", "usd:9.1e+12"),
        ("3조2000억원 투입", "usd:3.2e+12"),
        ("1兆2000億円を投資", "usd:1.2e+12"),
        ("日本政府追加1.1万亿日元支持", "usd:1.1e+12"),
        ("欧盟投入200亿欧元", "usd:2e+10"),
        ("tar in 420 miljoner dollar", "usd:4.2e+08"),
        ("wartość 19 mld euro", "usd:1.9e+10"),
        ("2.600 millones de dólares", "usd:2.6e+09"),  # thousands grouped with a dot
        ("a $1.125 billion round", "usd:1.12e+09"),  # a decimal point before an English magnitude
        ("1,1 milyar dolar", "usd:1.1e+09"),
        ("senilai 1,1 miliar dolar", "usd:1.1e+09"),
        # Magnitude words and units of other scripts, and currency codes after the amount.
        ("khoảng 4,3 tỷ USD", "usd:4.3e+09"),
        ("جولة بقيمة 260 مليون دولار", "usd:2.6e+08"),
        ("بـ260 مليون دولار", "usd:2.6e+08"),
        ("גייסה 220 מיליון דולר", "usd:2.2e+08"),
        ("сделка на 2 млрд долларов", "usd:2e+09"),
        ("निवेश 4,000 करोड़ रुपये", "usd:4e+10"),
        ("มูลค่า 1.5 แสนล้านบาท", "usd:1.5e+11"),
        ("قدرة 20 ميغاواط", "mw:20"),
        ("мощностью 300 МВт", "mw:300"),
        ("最大48万キロワット", "mw:480"),
    ],
)
def test_figures_are_normalised_so_outlets_meet(text: str, key: str) -> None:
    assert key in {f.key for f in figures(text)}


@pytest.mark.parametrize(
    ("text", "english", "key"),
    [
        ("đến hết ngày 10/4/2026", False, "d:04-10"),
        ("bis zum 10.4.2026", False, "d:04-10"),
        ("until 10.4.2026", True, "d:04-10"),  # dots put the day first in every language that uses them
        ("截至2026/4/10", False, "d:04-10"),
        ("filed 2026-04-10", True, "d:04-10"),
    ],
)
def test_dates_in_digits_are_dates(text: str, english: bool, key: str) -> None:
    assert [k for k, _, _ in _figures_at(text, slashes_day_first=not english)] == [key]


def test_a_slashed_date_in_english_is_not_read() -> None:
    # "4/10/2026" is the 10th of April in the US and the 4th of October elsewhere.
    assert _figures_at("on 4/10/2026 the rule took effect", slashes_day_first=False) == []
    # Outside English the day comes first; an impossible month is no date.
    assert [k for k, _, _ in _figures_at("ngày 4/10/2026", slashes_day_first=True)] == ["d:10-04"]
    assert _figures_at("ngày 31/13/2026", slashes_day_first=True) == []


def test_a_report_in_vietnamese_shares_the_dates_and_amounts_of_an_english_one() -> None:
    en = features(
        Article(id="en", title="Vietnam drafts import licences for AI chips",
                text="Comments are open until April 10. Imports of GPU servers reached $4.3 billion."),
    )  # fmt: skip
    vi = features(
        Article(id="vi", title="Bộ Công Thương lấy ý kiến dự thảo nhập khẩu chip",
                text="Lấy ý kiến đến hết ngày 10/4/2026. Kim ngạch nhập khẩu máy chủ đạt khoảng 4,3 tỷ USD."),
    )  # fmt: skip
    assert {"#d:04-10", "#usd:4.3e+09"} <= set(en.neutral) & set(vi.neutral)


def test_years_and_small_numbers_are_not_figures() -> None:
    assert figures("In 2025, 12 of them met on the third day.") == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("3조2000억원 투입", "usd:3.2e+12"),
        ("総事業費は約6億1200万ドル。", "usd:6.12e+08"),
        ("1억 2000만 달러", "usd:1.2e+08"),
        ("2万亿3000亿元", "usd:2.3e+12"),
        ("34万5000ボルト", "n:3.45e+05"),
    ],
)
def test_a_compound_cjk_amount_is_one_figure(text: str, key: str) -> None:
    assert [f.key for f in figures(text)] == [key]


def test_event_types_name_the_kind_of_event() -> None:
    assert "withdraw" in event_types("Commerce rescinds the chip rule")
    assert "earnings" in event_types("Quarterly revenue rose 20%")
    assert "launch" in event_types("The company unveiled a new accelerator")
    assert "delay" not in event_types("The company unveiled a new accelerator")
    # A pause or moratorium is a delay; a county's tax revenue is not a company's earnings.
    assert "delay" in event_types("Georgia county pauses new data center applications")
    assert "delay" in event_types("Commissioners impose a 180-day moratorium")
    assert "earnings" not in event_types("a board of commissioners eager for tax revenue")


def test_assignment_cost_does_not_grow_with_stored_stories() -> None:
    """Counted in scored candidates, not time: the index never compares against every story."""
    index = StoryIndex(window=timedelta(hours=96))
    scored: list[int] = []
    original = index._similarity

    def counting(*args: object) -> float:
        scored[-1] += 1
        return original(*args)  # type: ignore[arg-type]

    index._similarity = counting  # type: ignore[method-assign,assignment]
    for i in range(3000):
        scored.append(0)
        company = f"Firm{i % 700}"
        article = Article(
            id=f"a{i}",
            title=f"{company} plans {i * 7 + 1000:,}-GPU cluster in Region{i % 311}",
            text=f"{company} will build a data center in Region{i % 311} with Nvidia GPUs.",
        )
        index.assign(article.id, features(article), T0 + timedelta(minutes=i))
    assert max(scored) <= 12


def test_a_report_in_another_language_joins_by_names_and_figures() -> None:
    german = Article(
        id="launch-de",
        title="Nvidia stellt KI-Beschleuniger Vera vor",
        text=(
            "Nvidia hat auf seiner Entwicklerkonferenz in San Jose den Beschleuniger Vera vorgestellt. "
            "Der Chip verfügt über 288 GB HBM4-Speicher und soll beim Training 3,3-mal schneller sein "
            "als sein Vorgänger. Cloud-Anbieter wollen Vera ab der zweiten Jahreshälfte anbieten."
        ),
        source="Technik Tagesblatt",
        published=T0 + timedelta(hours=8),
    )
    other = Article(
        id="meta-de",
        title="Meta beginnt Bau von Rechenzentrum in Louisiana",
        text=(
            "Meta hat mit dem Bau eines Rechenzentrums mit 2 Gigawatt in Richland Parish begonnen. "
            "Der Versorger Entergy errichtet dafür drei Gaskraftwerke. Bis 2030 sollen dort mehr als "
            "eine Million GPUs laufen."
        ),
        source="Technik Tagesblatt",
        published=T0 + timedelta(hours=33),
    )
    samples = [*SAMPLES, (german, "launch"), (other, "meta-campus")]
    assert same_partition(cluster(samples), grouped(samples)) == []


def test_features_tell_english_from_other_languages() -> None:
    assert features(SAMPLES[0][0]).english
    cjk = Article(id="ja", title="サムスン、HBM4を量産出荷", text="サムスン電子は10日、HBM4の量産出荷を始めた。")
    assert not features(cjk).english
    assert "#d:02-15" in features(Article(id="d", title="x", text="Die Regel gilt ab 15. Februar.")).terms


@pytest.mark.parametrize(
    ("title", "text", "language"),
    [
        ("Nvidia ships Vera", "The chip has 288 GB of memory and ships to the clouds in the spring.", "en"),
        ("Nvidia liefert Vera aus", "Der Chip hat 288 GB Speicher und wird von den Clouds im Frühjahr angeboten.", "de"),
        ("Nvidia livre Vera", "La puce a 288 Go de mémoire et sera proposée par les clouds au printemps.", "fr"),
        ("Nvidia entrega Vera", "El chip tiene 288 GB de memoria y los proveedores lo ofrecerán en la primavera.", "es"),
        ("Nvidia consegna Vera", "Il chip ha 288 GB di memoria e sarà offerto dai cloud nella primavera.", "it"),
        ("Nvidia levert Vera", "De chip heeft 288 GB geheugen en is het komende voorjaar bij de clouds te huur.", "nl"),
        ("エヌビディア、Veraを出荷", "チップは288GBのメモリーを搭載する。", "ja"),
        ("엔비디아, Vera 출하", "이 칩은 288GB 메모리를 탑재했다.", "ko"),
        ("英伟达开始交付Vera", "该芯片配备288GB内存。", "zh"),
        ("Nvidia начала поставки Vera", "Чип получил 288 ГБ памяти.", "cyrl"),
        ("Vera 288 GB", "Vera 288 GB HBM4", "latin"),  # no words that tell
    ],
)
def test_features_give_a_coarse_language_key(title: str, text: str, language: str) -> None:
    assert features(Article(id="x", title=title, text=text)).language == language


def test_reports_in_two_other_languages_join_by_names_and_figures() -> None:
    # Korean and Chinese share no prose; the names and figures they share are enough, as they are
    # between English and another language.
    korean = Article(
        id="hbm-ko",
        title="한성반도체, 청주 M17서 HBM4 12단 양산…3조2000억원 투입",
        text="한성반도체가 청주 M17 공장에서 HBM4 12단 제품 양산에 들어갔다. 대역폭은 2.5TB/s, 투자액은 3조2000억원이다.",
        published=T0,
    )
    chinese = Article(
        id="hbm-zh",
        title="韩国Hanseong在清州M17量产12层HBM4",
        text="Hanseong在清州M17工厂开始量产12层HBM4，带宽2.5TB/s，投资3.2万亿韩元。",
        published=T0 + timedelta(hours=3),
    )
    index = StoryIndex()
    first = index.assign(korean.id, features(korean), T0)
    second = index.assign(chinese.id, features(chinese), T0 + timedelta(hours=3))
    assert features(korean).language == "ko" and features(chinese).language == "zh"
    assert not second.created and second.story_id == first.story_id


def test_languages_survive_state_and_restore() -> None:
    index = StoryIndex()
    german = Article(id="de", title="Nvidia liefert Vera aus", text="Der Chip hat 288 GB Speicher und wird ab März geliefert.")
    created = index.assign(german.id, features(german), T0)
    saved = index.state(created.story_id)
    assert saved["languages"] == ["de"]
    restored = StoryIndex()
    restored.restore(created.story_id, saved)
    assert restored.state(created.story_id)["languages"] == ["de"]
    legacy = {k: v for k, v in saved.items() if k != "languages"}  # saved before languages were kept
    again = StoryIndex()
    again.restore(created.story_id, legacy)
    assert again.state(created.story_id)["languages"] == ["latin"]


def test_a_lead_that_names_no_kind_of_event_does_not_conflict_with_a_marker() -> None:
    # An analysis piece whose lead names no event kind still joins a report whose lead names one.
    report = Article(
        id="pause",
        title="Georgia county delays data center applications for 180 days",
        text="Halden County commissioners delayed all new data center applications for 180 days on Tuesday.",
    )
    analysis = Article(
        id="why",
        title="Halden County and the Southeast's power math",
        text="Halden County commissioners voted on Tuesday to stop taking data center applications for 180 days.",
    )
    a, b = features(report), features(analysis)
    assert "delay" in a.lead_events and not (b.lead_events & {"delay"})
    index = StoryIndex()
    first = index.assign(analysis.id, b, T0)
    second = index.assign(report.id, a, T0 + timedelta(hours=2))
    assert second.story_id == first.story_id


def _feats(*terms: str) -> StoryFeatures:
    # Every term a name, so prose and names agree and the scores are plain cosines.
    return StoryFeatures(
        terms=dict.fromkeys(terms, 1.0), lead_events=frozenset(), events=frozenset(), facts={},
        neutral=frozenset(terms),
    )


# Two reports of one event that share too little to meet, and a third that carries both halves.
_BOARD = ("board", "vote", "wells", "aquifer", "permit", "hearing", "farmers", "drawdown")
_CAMPUS = ("campus", "cooling", "developer", "megawatts", "chillers", "redesign", "county", "servers")


def test_a_report_that_joins_two_stories_equally_well_merges_them() -> None:
    index = StoryIndex()
    first = index.assign("board", _feats(*_BOARD), T0)
    second = index.assign("campus", _feats(*_CAMPUS), T0 + timedelta(hours=1))
    assert second.created and len(index) == 2  # on their own, two stories
    bridge = index.assign("both", _feats(*_BOARD[:5], *_CAMPUS[:5]), T0 + timedelta(hours=2))
    assert not bridge.created and len(index) == 1
    survivor, gone = bridge.story_id, set(bridge.merged)
    assert {survivor} | gone == {first.story_id, second.story_id} and survivor not in gone
    state = index.state(survivor)
    assert state["articles"] == 3 and {"aquifer", "chillers"} <= set(state["terms"])
    assert set(index.story_ids()) == {survivor}
    # A later report of either half finds the merged story, not a folded one.
    later = index.assign("later", _feats(*_CAMPUS), T0 + timedelta(hours=3))
    assert later.story_id == survivor and not later.merged


def test_a_report_that_only_mentions_another_story_does_not_merge_it() -> None:
    index = StoryIndex()
    first = index.assign("board", _feats(*_BOARD), T0)
    second = index.assign("campus", _feats(*_CAMPUS), T0 + timedelta(hours=1))
    # All of the first story and a passing mention of the second: it joins the first only.
    mention = index.assign("mention", _feats(*_BOARD, *_CAMPUS[:4]), T0 + timedelta(hours=2))
    assert mention.story_id == first.story_id and mention.merged == ()
    assert set(index.story_ids()) == {first.story_id, second.story_id}


def test_join_attaches_to_a_story_it_reports_but_never_founds_one() -> None:
    index = StoryIndex()
    first = index.assign("board", _feats(*_BOARD), T0)
    assert index.join(_feats(*_CAMPUS), T0 + timedelta(hours=1)) is None  # nothing it reports
    assert set(index.story_ids()) == {first.story_id}
    joined = index.join(_feats(*_BOARD[:6], "mayor"), T0 + timedelta(hours=2))
    assert joined is not None and joined.story_id == first.story_id and not joined.created
    assert index.state(first.story_id)["articles"] == 2
    # Outside the story's window there is nothing to join.
    assert index.join(_feats(*_BOARD), T0 + timedelta(days=30)) is None


def test_a_german_report_full_of_capitalised_nouns_still_finds_the_story_by_its_names() -> None:
    # German capitalises every noun, so most of a German report's would-be names are ordinary
    # nouns; the entities and figures it shares with the English report must still be looked up.
    from bot.core.taxonomy import load_vocabulary
    from bot.core.triage import triage

    english = Article(
        id="en",
        title="US proposes export curbs on HBM and chip packaging services",
        text="The Commerce Department's Bureau of Industry and Security proposed on March 16 to require "
        "licenses for shipments of HBM to China, and for packaging services by firms in Taiwan and "
        "Malaysia. Comments are due within 30 days.",
    )
    german = Article(
        id="de",
        title="Regierung plant Genehmigungspflicht für Hochleistungsspeicher",
        text="Konzerne, Zulieferer, Händler, Spediteure, Makler und Empfänger sollen Stellungnahmen einreichen. "
        "Branchenverbände, Anwälte, Analysten und Investoren rechnen mit Verzögerungen, Lieferengpässen und Preisaufschlägen. "
        "Die Schwelle für die Speicherbandbreitendichte nennt der Regelentwurf ebenfalls. Der Entwurf des "
        "Bureau of Industry and Security vom 16. März betrifft HBM-Lieferungen nach China und Dienstleister "
        "in Taiwan und Malaysia.",
    )
    vocab = load_vocabulary()
    index = StoryIndex()
    first = index.assign(english.id, features(english, triage(english, vocab)), T0)
    feats = features(german, triage(german, vocab))
    assert feats.language == "de"
    second = index.assign(german.id, feats, T0 + timedelta(hours=5))
    assert second.story_id == first.story_id


def test_a_lead_word_in_the_pluperfect_is_backstory_not_the_event() -> None:
    # "had been stalled" tells what happened before the news; the news is the permit.
    permit = Article(
        id="permit",
        title="Ternary wins water title for its Querétaro AI campus",
        text="Ternary Data received a water concession for its 180 MW campus, clearing a hurdle for a "
        "project that had been stalled since late 2025.",
    )
    assert "delay" not in features(permit).lead_events
    stalled = Article(id="stalled", title="Ternary's Querétaro campus stalled again", text="Work stopped.")
    assert "delay" in features(stalled).lead_events
    # Said once as backstory and once as news, the word still counts.
    both = Article(
        id="both",
        title="Project delayed again",
        text="The project, which had been delayed once, is delayed again by a permit dispute.",
    )
    assert "delay" in features(both).lead_events


def test_a_word_that_only_case_folds_to_a_month_is_no_date() -> None:
    # "ſ" (long s) matches "s" case-insensitively but does not lower-case to it: once a KeyError
    found = features(
        Article(id="x", title="Campus opens", text="The campus opens on ſeptember 12 with 300 MW.")
    )
    assert "#mw:300" in found.terms and not any(t.startswith("#d:") for t in found.terms)
