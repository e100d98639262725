"""bot.core.taxonomy: the shipped vocabulary, user extensions, and term matching."""

from __future__ import annotations

import pytest

from bot.config import VocabularyExtension
from bot.core.taxonomy import AI, AUDIENCES, ENTITY, NEGATIVE, TOPIC, load_vocabulary
from bot.errors import ConfigError
from bot.models import TOPICS


def _found(text: str, **ext: dict[str, list[str]]) -> dict[tuple[str, str], float]:
    vocab = load_vocabulary(VocabularyExtension(**ext) if ext else None)
    out: dict[tuple[str, str], float] = {}
    for hit in vocab.scan(text):
        for entry in hit.entries:
            out[(entry.kind, entry.key)] = max(entry.weight, out.get((entry.kind, entry.key), 0.0))
    return out


def test_shipped_vocabulary_covers_topics_and_audiences() -> None:
    vocab = load_vocabulary()
    assert vocab.topics == TOPICS
    assert set(vocab.topic_terms) == set(TOPICS)
    assert all(vocab.topic_terms[t] for t in TOPICS)
    assert vocab.audiences == AUDIENCES
    assert "data-center operators" in AUDIENCES
    for topic, audiences in vocab.topic_audiences.items():
        assert topic in TOPICS
        assert set(audiences) <= set(AUDIENCES)
    assert load_vocabulary() is vocab  # the default is built once


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("NVIDIA Corp.", "Nvidia"),
        ("英伟达", "Nvidia"),
        ("Taiwan Semiconductor", "TSMC"),
        ("台积电", "TSMC"),
        ("Bureau of Industry and Security", "BIS"),
        ("Commerce Department", "Commerce Department"),
        ("MI300X", "MI300X"),
        ("Ascend 910C", "Ascend 910C"),
        ("Trainium 3", "Trainium3"),
        ("GB300 NVL72", "GB300"),
        ("Lambda Labs", "Lambda"),
    ],
)
def test_aliases_resolve_to_canonical_names(alias: str, canonical: str) -> None:
    assert load_vocabulary().canonical(alias) == canonical
    assert (ENTITY, canonical) in _found(f"News about {alias} today.")


def test_matching_handles_plurals_hyphens_and_case() -> None:
    found = _found("Two AI data-centres and new GPUs; the HBM supply is tight.")
    assert found[(TOPIC, "datacenter")] == 3.0
    assert found[(TOPIC, "chips")] >= 2.0
    assert (AI, "") in found  # "AI data centre" also carries the AI context it contains


def test_acronyms_and_marked_names_are_case_sensitive() -> None:
    assert (ENTITY, "BIS") not in _found("Die Preise steigen bis 2026.")
    assert (ENTITY, "Arm") not in _found("He broke his arm.")
    assert (ENTITY, "Arm") in _found("Arm licensed a new core.")
    assert (AI, "") not in _found("The ai of the sloth.")


def test_long_terms_keep_the_entities_inside_them() -> None:
    found = _found("It bought Nvidia H100 chips.")
    assert (ENTITY, "H100") in found and (ENTITY, "Nvidia") in found


def test_multilingual_terms() -> None:
    assert (TOPIC, "datacenter") in _found("Neue KI-Rechenzentren in Bayern")
    assert (TOPIC, "export-controls") in _found("美国加强对华芯片出口管制")
    assert (TOPIC, "datacenter") in _found("新しいデータセンターを建設")
    assert (TOPIC, "chips") in _found("삼성전자의 AI 반도체 생산")
    assert (AI, "") in _found("الذكاء الاصطناعي ومراكز البيانات")
    assert (TOPIC, "export-controls") in _found("contrôles à l'exportation des puces")


def test_negative_context_is_found() -> None:
    found = _found("The RTX 5090 hits 140 fps in Cyberpunk 2077 with DLSS.")
    assert (NEGATIVE, "gaming") in found


def test_user_extension_adds_entities_and_topic_terms() -> None:
    found = _found(
        "Acme Compute signs a deal for zettaflop racks.",
        organizations={"Acme Compute": ["AcmeCo"]},
        topic_terms={"cloud-capacity": ["zettaflop racks"]},
    )
    assert (ENTITY, "Acme Compute") in found
    assert found[(TOPIC, "cloud-capacity")] == 2.0
    vocab = load_vocabulary(VocabularyExtension(organizations={"Nvidia": ["Team Green"]}))
    assert vocab.canonical("Team Green") == "Nvidia"
    assert vocab.entities["Nvidia"].role == "chip-designer"


def test_user_extension_with_unknown_topic_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown topics"):
        load_vocabulary(VocabularyExtension(topic_terms={"weather": ["rain"]}))


def test_neutral_phrases_shadow_negative_words() -> None:
    found = _found("A game changer financed through a special purpose vehicle.")
    assert (NEGATIVE, "gaming") not in found
    assert (NEGATIVE, "automotive") not in found
    assert (NEGATIVE, "gaming") in _found("The game sold well.")


def test_ambiguous_product_names_need_context() -> None:
    assert (ENTITY, "Rubin") not in _found("The producer Rick Rubin released an album.")
    assert (ENTITY, "Rubin") in _found("Nvidia Rubin GPUs ship next year.")
    assert (ENTITY, "Hopper") not in _found("A painting by Edward Hopper sold.")
    assert (ENTITY, "Lambda") not in _found("AWS Lambda functions got cheaper.")
    assert (ENTITY, "Lambda") in _found("Lambda Labs raised money.")
    assert load_vocabulary().canonical("Lambda") == "Lambda"


def test_cyrillic_terms_need_word_boundaries() -> None:
    assert (AI, "") in _found("Компания строит ЦОД для ИИ.")
    assert (AI, "") not in _found("ЛИИ провёл турнир.")


@pytest.mark.parametrize(
    ("text", "canonical", "not_this"),
    [
        ("AWS will offer Trainium 3 instances next year.", "Trainium3", "Trainium2"),
        ("The lab trains on Trainium chips.", "Trainium", "Trainium2"),
        ("Racks of GB300 NVL72 are shipping.", "GB300", "GB200"),
        ("The Grace Blackwell superchip is in volume.", "Grace Blackwell", "Grace Hopper"),
        ("Its accelerators use HBM4 stacks.", "HBM4", "HBM"),
        ("AMD Instinct MI455X parts arrive in 2026.", "MI455X", "MI355X"),
        ("Huawei's Ascend 910C ships in volume.", "Ascend 910C", "Ascend 910B"),
        ("A B300 server costs more.", "B300", "B200"),
    ],
)
def test_product_versions_keep_their_own_names(text: str, canonical: str, not_this: str) -> None:
    found = _found(text)
    assert (ENTITY, canonical) in found
    assert (ENTITY, not_this) not in found


def test_true_aliases_still_resolve_to_one_name() -> None:
    assert (ENTITY, "H100") in _found("They bought H100 GPUs.")
    assert (ENTITY, "Gaudi 3") in _found("Intel Gaudi3 pricing fell.")


def test_katakana_and_hangul_names_of_main_players() -> None:
    vocab = load_vocabulary()
    for alias, canonical in (
        ("エヌビディア", "Nvidia"),
        ("グーグル", "Google"),
        ("マイクロソフト", "Microsoft"),
        ("アマゾン", "Amazon"),
        ("オラクル", "Oracle"),
        ("ソフトバンク", "SoftBank"),
        ("カイロス・パワー", "Kairos Power"),
        ("아마존", "Amazon"),
    ):
        assert vocab.canonical(alias) == canonical
        assert (ENTITY, canonical) in _found(f"米国の{alias}が発表した。")


def test_review_alone_is_not_gaming_context() -> None:
    assert (NEGATIVE, "gaming") not in _found("The End-User Review Committee added the firms.")
    assert (NEGATIVE, "gaming") not in _found("The deal is under review by regulators.")
    assert (TOPIC, "export-controls") in _found("The End-User Review Committee added the firms.")


def test_consumer_electronics_and_sport_are_negative_context() -> None:
    for text, cls in (
        ("The TV maker's OLED televisions get a new picture processor.", "consumer"),
        ("The flagship smartphone chip gets a faster NPU.", "consumer"),
        ("新款旗舰手机芯片发布。", "consumer"),
        ("The next home console uses a custom GPU.", "gaming"),
        ("次世代の据え置き機はレイトレーシングに対応。", "gaming"),
        ("The team showed its livery before the season opener.", "other"),
        ("The chip goes into self-driving cars.", "automotive"),
    ):
        assert (NEGATIVE, cls) in _found(text), text


@pytest.mark.parametrize(
    "text",
    [
        "ASML moet een exportvergunning aanvragen; de vergunningplicht geldt voor China.",
        "Der Konzern braucht eine Ausfuhrgenehmigung für die Anlagen.",
        "Le groupe doit obtenir une licence d'exportation pour ces machines.",
        "Serve una licenza di esportazione per i macchinari.",
        "Exporters need an export licence for these tools.",
    ],
)
def test_export_licence_terms_in_several_languages(text: str) -> None:
    assert (TOPIC, "export-controls") in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "The start-up closed a Series B led by two funds.",
        "It raised money in a Series E round.",
        "The company plans an IPO next year.",
        "Der Chipentwickler plant den Börsengang.",
        "该公司在港交所上市。",
        "회사는 코스닥에 상장했다.",
    ],
)
def test_funding_round_and_listing_terms(text: str) -> None:
    assert (TOPIC, "funding-deals") in _found(text)


def test_case_sensitive_terms_need_a_word_start() -> None:
    # A capitalised term inside a longer word does not count, and one right after it still does.
    assert (ENTITY, "AMD") not in _found("The XAMD index rose.")
    assert (ENTITY, "AMD") in _found("The XAMD index and AMD rose.")
    assert (ENTITY, "AMD") in _found("AMD rose.")


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("オハイオ州の送電線計画に認可", "Ohio"),
        ("马来西亚柔佛州的数据中心", "Malaysia"),
        ("인도네시아 바탐의 GPU 클라우드", "Indonesia"),  # not India: the longest name wins
        ("インドネシア政府が発表", "Indonesia"),
        ("Le projet en Allemagne avance", "Germany"),
        ("Nowy kampus w Polsce i w Niemczech", "Poland"),
        ("La Unión Europea aprueba el plan", "European Union"),
        ("Yeni merkez Güney Kore'de açılacak", "South Korea"),
    ],
)
def test_places_are_found_in_other_languages(text: str, place: str) -> None:
    # Cross-language reports of one event meet on the names they share; places are among them.
    found = {key for kind, key in _found(text) if kind == ENTITY}
    assert place in found, found
    if place == "Indonesia":
        assert "India" not in found
