"""The `infrawire analyze` contract: inputs, JSON shape, grouping, and bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CARD_KEYS = {
    "what_changed",
    "why_it_matters",
    "who_should_care",
    "what_to_do_next",
    "key_takeaways",
    "future_implications",
    "timeline",
}
TOP_KEYS = {
    "id",
    "title",
    "relevant",
    "relevance",
    "importance",
    "topics",
    "entities",
    "story",
    "explanation",
    "card",
}

EXPORT_RULE = (
    "The U.S. Commerce Department's Bureau of Industry and Security on Monday published a rule that "
    "restricts exports of advanced AI accelerators such as Nvidia's H20 to China. The rule requires "
    "licences for shipments of chips above a performance threshold. Nvidia said it expects a charge of "
    "$5.5 billion tied to H20 inventory. Analysts said the restriction will push Chinese buyers toward "
    "Huawei's Ascend 910C."
)
EXPORT_RULE_2 = (
    "Nvidia will book a $5.5 billion charge after Washington told the chipmaker that H20 accelerators "
    "bound for China now need an export licence. The Bureau of Industry and Security rule, published on "
    "Monday, covers AI chips above a set performance level. Chinese cloud providers had ordered large "
    "volumes of the H20 this year."
)
GAMING = (
    "We tested the GeForce RTX 5080 in twelve games at 1440p and 4K. Frame rates rose about 12 percent "
    "over the previous card, and ray tracing performance improved. The cooler stays quiet under load, and "
    "the card costs $999. It is a solid upgrade for gamers with older cards."
)


def run_cli(
    args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        old = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            code = main(args)
        finally:
            sys.stdin = old
    else:
        code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write_articles(folder: Path) -> None:
    (folder / "a_rule.txt").write_text(
        "US restricts Nvidia H20 exports to China\n\n" + EXPORT_RULE, encoding="utf-8"
    )
    (folder / "b_rule.md").write_text(
        "# Nvidia takes $5.5bn hit on H20 licence rule\n\n" + EXPORT_RULE_2, encoding="utf-8"
    )
    (folder / "c_game.html").write_text(
        "<html><head><title>RTX 5080 review: fast and quiet</title></head><body>"
        + "".join(f"<p>{s}.</p>" for s in GAMING.split(". "))
        + "</body></html>",
        encoding="utf-8",
    )


def test_folder_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_articles(tmp_path)
    code, out, err = run_cli(["analyze", "--json", str(tmp_path)], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a_rule.txt", "b_rule.md", "c_game.html"]
    for row in rows:
        assert set(row) == TOP_KEYS
        assert set(row["card"]) == CARD_KEYS
        assert all(set(e) == {"name", "type"} for e in row["entities"])
        assert 0 <= row["relevance"] <= 1 and 0 <= row["importance"] <= 100
    assert rows[0]["title"] == "US restricts Nvidia H20 exports to China"
    assert rows[1]["title"] == "Nvidia takes $5.5bn hit on H20 licence rule"
    assert rows[2]["title"] == "RTX 5080 review: fast and quiet"
    assert rows[0]["relevant"] and rows[1]["relevant"]
    assert not rows[2]["relevant"]
    assert rows[0]["story"] == rows[1]["story"] != rows[2]["story"]
    assert "export-controls" in rows[0]["topics"]


def test_jsonl_and_stdin_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {
            "id": "r1",
            "title": "US restricts Nvidia H20 exports",
            "text": EXPORT_RULE,
            "published": "2026-04-14T10:00:00Z",
        },
        {"id": "r2", "title": "Nvidia charge on H20 rule", "text": EXPORT_RULE_2, "source": "Wire"},
    ]
    file = tmp_path / "in.jsonl"
    file.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out, _ = run_cli(["analyze", "--json", str(file)], capsys)
    assert code == 0
    from_file = [json.loads(line) for line in out.splitlines()]
    code, out, _ = run_cli(["analyze", "--json", "-"], capsys, stdin=file.read_text(encoding="utf-8"))
    assert code == 0
    from_stdin = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in from_file] == ["r1", "r2"]
    assert from_file == from_stdin


def test_bad_inputs_are_named_and_the_rest_still_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.txt"
    good.write_text("US restricts Nvidia H20 exports\n\n" + EXPORT_RULE, encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"Title\n\n\xff\xfe\xfa not utf-8")
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"id": "ok", "title": "Nvidia charge", "text": EXPORT_RULE_2}),
                "[1, 2, 3]",
                json.dumps({"id": "notext", "title": "no body"}),
                "{not json",
            ]
        ),
        encoding="utf-8",
    )
    missing = tmp_path / "missing.txt"
    code, out, err = run_cli(["analyze", "--json", str(good), str(binary), str(jsonl), str(missing)], capsys)
    assert code != 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["good.txt", "ok"]
    assert f"{binary}: not UTF-8" in err
    assert f"{jsonl}:2: expected a JSON object" in err
    assert f"{jsonl}:3: missing or empty 'text'" in err
    assert f"{jsonl}:4: not valid JSON" in err
    assert f"{missing}: no such file" in err


def test_terminal_cards_grouped_by_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_articles(tmp_path)
    code, out, _ = run_cli(["analyze", str(tmp_path)], capsys)
    assert code == 0
    assert out.count("What changed") == 1  # two reports of one story make one card
    assert "a_rule.txt" in out and "b_rule.md" in out
    assert "c_game.html" in out  # listed among the articles that are not AI infrastructure


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_shared_corpus_through_the_installed_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "infrawire"
    proc = subprocess.run(
        [str(exe), "analyze", "--json", str(CORPUS)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["id"][:3]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert sorted(rows) == ["000", "001", "002", "003", "004"]
    assert all(r["relevant"] for r in rows.values())
    assert rows["000"]["story"] == rows["002"]["story"]
    others = {rows[k]["story"] for k in ("000", "001", "003", "004")}
    assert len(others) == 4
    # The aggregator card's mis-decoded emoji must not survive into the output.
    assert "๐" not in rows["000"]["title"] and "๐" not in json.dumps(rows["000"]["card"], ensure_ascii=False)


def test_site_chrome_above_the_headline_is_not_the_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text(
        "Freshcollected in 12m\n\nUS restricts Nvidia H20 exports to China\n\n" + EXPORT_RULE,
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_text("PostLinkedIn\nShare\n\n" + EXPORT_RULE, encoding="utf-8")
    code, out, _ = run_cli(["analyze", "--json", str(tmp_path)], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["title"] == "US restricts Nvidia H20 exports to China"
    assert rows[1]["title"].startswith("The U.S. Commerce Department")  # share buttons skipped
