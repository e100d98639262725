"""Kill the dispatcher with SIGKILL in the middle of 500 deliveries, restart it, and check the
outbox's promise: nothing lost, and at most one duplicate per crash.

The worker is this module run as a script in a subprocess. It sends through a RecordingAdapter
that appends every send to a journal file and fsyncs it before send() returns, so the journal is
the ground truth of what reached the "platform", whatever the database says. Most of each send's
time is spent after the journal write (settle_s), so most kills land between "posted" and "marked
sent": the window that produces the one allowed duplicate.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bot.models import Subscription
from bot.store import Store
from tests.fixtures.channels import NOW, make_story

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = 5
STORIES = 100  # x 5 channels = 500 deliveries
CRASH_AT = (60, 200, 350)  # kill once the journal holds this many sends


async def prepare(db: Path) -> set[tuple[str, str]]:
    store = await Store.open(db)
    expected = set()
    try:
        subs = [
            await store.subscriptions.save(Subscription(id=0, platform="test", channel=f"C{i}"), now=NOW)
            for i in range(CHANNELS)
        ]
        for n in range(STORIES):
            story = make_story(f"story-{n:03d}", f"Story number {n}")
            await store.stories.save(story, now=NOW)
            for sub in subs:
                assert await store.deliveries.add(sub.id, story.id, "alert", now=NOW, payload={"why": "test"})
                expected.add((sub.channel, story.id))
    finally:
        await store.close()
    return expected


def start_worker(db: Path, journal: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_dispatch_crash", str(db), str(journal)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def sends(journal: Path) -> list[dict[str, str]]:
    if not journal.exists():
        return []
    text = journal.read_text(encoding="utf-8")
    # The worker may be mid-write: a last line without its newline is not a send yet.
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def wait_for_sends(proc: subprocess.Popen[bytes], journal: Path, count: int) -> None:
    while len(sends(journal)) < count:
        assert proc.poll() is None, (
            f"worker exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
        time.sleep(0.005)


async def test_sigkill_mid_dispatch_loses_nothing_and_duplicates_at_most_once_per_crash(
    tmp_path: Path,
) -> None:
    db, journal = tmp_path / "outbox.db", tmp_path / "journal.jsonl"
    expected = await prepare(db)
    assert len(expected) == 500
    for crash_at in CRASH_AT:
        proc = start_worker(db, journal)
        wait_for_sends(proc, journal, crash_at)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
        assert len(sends(journal)) < 500 + len(CRASH_AT)  # it really died mid-way
    proc = start_worker(db, journal)
    _, err = proc.communicate(timeout=110)
    assert proc.returncode == 0, err.decode()

    delivered = Counter((s["channel"], s["story_id"]) for s in sends(journal))
    assert set(delivered) == expected  # nothing lost, nothing invented
    duplicates = sum(n - 1 for n in delivered.values())
    print(f"crash test: {len(CRASH_AT)} SIGKILLs, {len(delivered)} delivered, {duplicates} duplicates")
    assert duplicates <= len(CRASH_AT)
    store = await Store.open(db)
    try:
        assert await store.deliveries.counts() == {"sent": 500}
    finally:
        await store.close()


async def worker(db: Path, journal: Path) -> None:
    from adapters.testing import RecordingAdapter
    from bot.config import DispatchSettings
    from bot.dispatch import Dispatcher

    store = await Store.open(db)
    try:
        import os

        adapter = RecordingAdapter(
            "test", journal=journal, delay_s=0.001, settle_s=0.003, id_prefix=f"p{os.getpid()}"
        )
        dispatcher = Dispatcher(
            store, {"test": adapter}, DispatchSettings.model_validate({}), lease_s=1.0, batch=10
        )
        while True:
            await dispatcher.run_once(datetime.now(UTC))
            counts = await store.deliveries.counts()
            if counts.get("pending", 0) + counts.get("sending", 0) == 0:
                return
            await asyncio.sleep(0.05)  # claims of the killed worker wait out their lease
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(worker(Path(sys.argv[1]), Path(sys.argv[2])))
