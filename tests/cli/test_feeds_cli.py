from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store

OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>mine</title></head>
  <body>
    <outline text="Infra">
      <outline type="rss" text="Example A" xmlUrl="https://a.example/feed.xml"/>
      <outline type="rss" title="Example B" text="B" xmlUrl="https://b.example/atom"/>
    </outline>
    <outline type="rss" text="Bad" xmlUrl="ftp://c.example/feed"/>
  </body>
</opml>
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[store]\npath = "data/test.db"\n', encoding="utf-8")
    return path


def stored_urls(config: Path) -> list[str]:
    async def go() -> list[str]:
        store = await Store.open(config.parent / "data" / "test.db")
        try:
            return [f.url for f in await store.feeds.list()]
        finally:
            await store.close()

    return asyncio.run(go())


def test_db_migrate_creates_the_configured_file(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate", "--config", str(config)]) == 0
    assert (config.parent / "data" / "test.db").exists()
    assert "schema version" in capsys.readouterr().out


def test_add_list_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ["--config", str(config)]
    assert main(["feeds", "add", "https://a.example/feed.xml", "--title", "A", *cfg]) == 0
    assert main(["feeds", "add", "https://b.example/feed.xml", "--backfill", *cfg]) == 0
    assert "added feed 1" in capsys.readouterr().out
    # A duplicate is a clear error with a non-zero exit, and changes nothing.
    assert main(["feeds", "add", "https://a.example/feed.xml", *cfg]) == 2
    assert "already exists: https://a.example/feed.xml (id 1)" in capsys.readouterr().err
    assert main(["feeds", "add", "file:///etc/passwd", *cfg]) == 2
    assert "not an http(s) feed URL" in capsys.readouterr().err
    assert main(["feeds", "add", "http://169.254.169.254/latest/meta-data", *cfg]) == 2
    assert "169.254.169.254" in capsys.readouterr().err
    assert main(["feeds", "add", "http://10.0.0.7/feed.xml", "--allow-private", *cfg]) == 0
    assert main(["feeds", "remove", "3", *cfg]) == 0
    capsys.readouterr()
    assert main(["feeds", "list", *cfg]) == 0
    out = capsys.readouterr().out
    assert "A  <https://a.example/feed.xml>" in out and "https://b.example/feed.xml" in out
    assert main(["feeds", "remove", "1", *cfg]) == 0
    assert main(["feeds", "remove", "1", *cfg]) == 2
    assert "no feed with id 1" in capsys.readouterr().err
    assert stored_urls(config) == ["https://b.example/feed.xml"]


def test_opml_import_export_round_trip(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(config)]
    opml = tmp_path / "in.opml"
    opml.write_text(OPML, encoding="utf-8")
    assert main(["feeds", "add", "https://a.example/feed.xml", *cfg]) == 0
    # One invalid outline: the rest are imported, the problem is named, the exit code says so.
    assert main(["feeds", "import", str(opml), *cfg]) == 1
    out = capsys.readouterr().out
    assert "ftp://c.example/feed" in out and "imported 1 feeds (1 already present, 1 invalid)" in out
    assert stored_urls(config) == ["https://a.example/feed.xml", "https://b.example/atom"]
    exported = tmp_path / "out.opml"
    assert main(["feeds", "export", str(exported), *cfg]) == 0
    text = exported.read_text(encoding="utf-8")
    assert 'xmlUrl="https://b.example/atom"' in text and 'title="Example B"' in text


def test_opml_with_doctype_is_refused_and_nothing_is_stored(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline xmlUrl="https://x.example/&b;"/></body></opml>',
        encoding="utf-8",
    )
    assert main(["feeds", "import", str(bomb), "--config", str(config)]) == 2
    assert "DOCTYPE" in capsys.readouterr().err
    broken = tmp_path / "broken.opml"
    broken.write_text('<opml version="2.0">\n<body>\n<outline xmlUrl="x">\n</opml>', encoding="utf-8")
    assert main(["feeds", "import", str(broken), "--config", str(config)]) == 2
    assert f"{broken}:4: not well-formed XML" in capsys.readouterr().err
    assert main(["feeds", "import", str(tmp_path / "missing.opml"), "--config", str(config)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert stored_urls(config) == []


RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Loopback Outlet</title>
<item><title>Nvidia ships 10,000 GPUs to a new AI data center</title><link>https://loop.example/1</link>
<guid>1</guid><pubDate>Tue, 17 Nov 2026 14:00:00 GMT</pubDate><description>Shipment.</description></item>
<item><title>Second item</title><link>https://loop.example/2</link><guid>2</guid>
<description>More.</description></item></channel></rss>"""


@pytest.fixture
def feed_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/feed.xml":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(RSS)))
            self.end_headers()
            self.wfile.write(RSS)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_check_prints_what_a_feed_holds_and_stores_nothing(
    config: Path, feed_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("bot.ingest.parse", reason="the feed parser is not installed yet")
    cfg = ["--config", str(config)]
    assert main(["feeds", "check", f"{feed_server}/feed.xml", "--allow-private", *cfg]) == 0
    out = capsys.readouterr().out
    assert "Loopback Outlet: 2 items" in out
    assert "2026-11-17T14:00+00:00  Nvidia ships 10,000 GPUs to a new AI data center" in out
    # Without --allow-private the SSRF guard refuses a loopback address, naming it.
    assert main(["feeds", "check", f"{feed_server}/feed.xml", *cfg]) == 2
    assert "127.0.0.1" in capsys.readouterr().err
    assert main(["feeds", "check", f"{feed_server}/missing.xml", "--allow-private", *cfg]) == 2
    assert "404" in capsys.readouterr().err
    assert stored_urls(config) == []


def test_removing_a_config_feed_says_it_will_come_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[store]\npath = "c.db"\n[[feeds]]\nurl = "https://a.example/feed.xml"\n', encoding="utf-8"
    )
    cfg = ["--config", str(config)]
    assert main(["feeds", "add", "https://a.example/feed.xml", *cfg]) == 0
    assert main(["feeds", "remove", "1", *cfg]) == 0
    assert "listed in the config file" in capsys.readouterr().out
