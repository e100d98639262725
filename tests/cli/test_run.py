from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Slow outlet</title>
<item><title>AWS adds 20,000 Nvidia H200 GPUs to its cloud capacity</title><link>https://slow.example/1</link>
<guid>1</guid><description>AWS added 20,000 Nvidia H200 GPUs in a new data center region.</description></item>
</channel></rss>"""
INFRAWIRE = Path(sys.executable).parent / "infrawire"


def feed_state(db: Path) -> tuple[str | None, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT last_success_at, (SELECT COUNT(*) FROM articles) FROM feeds").fetchone()
    return row[0], int(row[1])


@dataclass
class Running:
    proc: asyncio.subprocess.Process
    server: TestServer
    release: asyncio.Event


async def run_until_the_poll_is_in_flight(tmp_path: Path) -> Running:
    """`infrawire run` in a subprocess, its one feed's response held back by the test."""
    requested = asyncio.Event()
    release = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        requested.set()
        await release.wait()  # the poll is in flight until the test lets it finish
        return web.Response(body=FEED, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\npath = "run.db"\n[[feeds]]\nurl = "{server.make_url("/feed")}"\nallow_private = true\n',
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        str(INFRAWIRE),
        "run",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    running = Running(proc, server, release)
    waiting = asyncio.ensure_future(requested.wait())
    exited = asyncio.ensure_future(proc.wait())
    await asyncio.wait({waiting, exited}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if not waiting.done():
        waiting.cancel()
        stderr = await proc.stderr.read() if proc.returncode is not None and proc.stderr else b""
        await stop(running)
        pytest.fail(f"infrawire run never fetched the feed: {stderr.decode()[-2000:]}")
    return running


async def stop(running: Running) -> None:
    if running.proc.returncode is None:
        running.proc.kill()
        await running.proc.wait()
    await running.server.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_run_finishes_the_in_flight_poll_on_a_signal_and_exits_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    running = await run_until_the_poll_is_in_flight(tmp_path)
    try:
        running.proc.send_signal(sig)
        await asyncio.sleep(0.2)  # let the signal land while the fetch is still waiting
        assert running.proc.returncode is None  # still finishing the poll
        running.release.set()
        stdout, stderr = await asyncio.wait_for(running.proc.communicate(), timeout=60)
    finally:
        await stop(running)
    assert running.proc.returncode == 0, stderr.decode()
    assert b"app.stopped" in stderr
    assert b"running" in stdout
    last_success, articles = feed_state(tmp_path / "run.db")
    assert last_success is not None and articles == 1  # the in-flight poll completed and was stored


async def test_a_second_signal_gives_up_on_in_flight_work(tmp_path: Path) -> None:
    running = await run_until_the_poll_is_in_flight(tmp_path)
    try:
        running.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        running.proc.send_signal(signal.SIGTERM)
        # Exits without the response ever being released.
        _, stderr = await asyncio.wait_for(running.proc.communicate(), timeout=60)
    finally:
        running.release.set()
        await stop(running)
    assert running.proc.returncode == 0, stderr.decode()
    assert b"app.forced_stop" in stderr and b"app.stopped" in stderr
    last_success, articles = feed_state(tmp_path / "run.db")
    assert last_success is None and articles == 0  # nothing half-done was recorded


def test_poll_once_stores_new_items_and_a_second_pass_finds_nothing_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot.cli import main

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "config.toml"
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    config.write_text(
        f'[store]\npath = "poll.db"\n[[feeds]]\nurl = "{url}"\nallow_private = true\nbackfill = true\n',
        encoding="utf-8",
    )
    try:
        assert main(["poll", "--once", "--config", str(config)]) == 0
        assert "polled 1 feeds: 1 new articles" in capsys.readouterr().out
        # Not due yet: nothing is fetched. With --all it is, and the ETag makes it a 304.
        assert main(["poll", "--once", "--config", str(config)]) == 0
        assert "polled 0 feeds" in capsys.readouterr().out
        assert main(["poll", "--once", "--all", "--config", str(config)]) == 0
        assert "polled 1 feeds: 0 new articles" in capsys.readouterr().out
    finally:
        server.shutdown()
        server.server_close()
    last_success, articles = feed_state(tmp_path / "poll.db")
    assert last_success is not None and articles == 1
