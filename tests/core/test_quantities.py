"""bot.core.quantities: ranges keep both ends with their unit, power in other units and scripts."""

from __future__ import annotations

import pytest

from bot.core.quantities import find_quantities


def _money(text: str) -> set[tuple[float, str | None]]:
    return {(e.value or 0.0, e.unit) for e in find_quantities(text) if e.type == "money"}


def _power(text: str) -> set[float]:
    return {e.value or 0.0 for e in find_quantities(text) if e.type == "power"}


@pytest.mark.parametrize(
    ("text", "low", "high", "unit"),
    [
        ("The company now guides capex of $175-185B for the year.", 175e9, 185e9, "usd"),
        ("Spending will be $175bn-$185bn.", 175e9, 185e9, "usd"),
        ("It expects between $175 billion and $185 billion.", 175e9, 185e9, "usd"),
        ("Budget: 175 to 185 billion dollars.", 175e9, 185e9, "usd"),
        ("Die Prognose liegt bei 175 bis 185 Milliarden US-Dollar.", 175e9, 185e9, "usd"),
        ("Le plan prévoit 10 à 12 milliards de dollars.", 10e9, 12e9, "usd"),
        ("投资规模为1750亿至1850亿美元。", 175e9, 185e9, "usd"),
        ("設備投資は1,750億～1,850億ドルの見通し。", 175e9, 185e9, "usd"),
        ("A €10–12 billion programme.", 10e9, 12e9, "eur"),
    ],
)
def test_money_ranges_give_both_ends_the_unit(text: str, low: float, high: float, unit: str) -> None:
    found = _money(text)
    assert (low, unit) in found
    assert (high, unit) in found


def test_an_amount_without_currency_takes_the_articles_currency() -> None:
    text = "Die Prognose liegt bei 185 Milliarden Dollar; im Frühjahr waren es höchstens 165 Milliarden."
    assert (165e9, "usd") in _money(text)
    # With no currency anywhere the amount stays unknown rather than guessed.
    assert _money("Es geht um höchstens 165 Milliarden.") == set()


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        # A compound amount is one sum, not its last part: 1兆1000億 is 1.1 trillion, not 100 billion.
        ("政府、ラピダスに追加支援1兆1000億円", 1.1e12, "jpy"),
        ("삼성전자 3조2000억 원 투자", 3.2e12, "krw"),
        # Chinese writes a trillion as 万亿 and the yen as 日元.
        ("日本政府追加1.1万亿日元支持Rapidus", 1.1e12, "jpy"),
        ("欧盟投入200亿歐元建设", 2e10, "eur"),
    ],
)
def test_cjk_amounts(text: str, value: float, unit: str) -> None:
    assert _money(text) == {(value, unit)}


def test_a_number_before_a_range_word_is_not_a_range_start() -> None:
    # A year is not the low end of a sum; "to" after it must not invent a second figure.
    assert _money("From 2024 to 10 billion dollars in sales.") == {(10e9, "usd")}
    assert _money("It agreed a $5bn-plus deal.") == {(5e9, "usd")}


@pytest.mark.parametrize(
    ("text", "mw"),
    [
        ("6基で最大30万キロワットを賄う。", 300.0),
        ("项目装机容量为30万千瓦。", 300.0),
        ("The plant will deliver 300,000 kilowatts.", 300.0),
        ("A 1,500兆瓦 campus.", 1500.0),
        ("2吉瓦的算力中心", 2000.0),
    ],
)
def test_power_in_kilowatts_and_cjk_units(text: str, mw: float) -> None:
    assert mw in _power(text)


def test_rack_kilowatts_are_not_site_power() -> None:
    assert _power("Each rack draws 130 kW.") == set()


@pytest.mark.parametrize(
    "text", ["las fases 1,2,3 gigavatios", "tendrá 21.76.5 gigavatios", "1,2,3 millones de euros"]
)
def test_digits_that_are_no_number_in_either_style_give_nothing(text: str) -> None:
    # "1,2,3" is neither "1,234" nor "1,5": once a crash that took the article's triage with it
    assert find_quantities(text) == []


def test_hebrew_amounts_read_their_digits_the_english_way() -> None:
    found = find_quantities('החברה גייסה 220 מיליון דולר (כ-810 מיליון ש"ח), ושוויה 2.5 מיליארד דולר.')
    assert [(e.value, e.unit) for e in found] == [(220e6, "usd"), (810e6, "ils"), (2.5e9, "usd")]
