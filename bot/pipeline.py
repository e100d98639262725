"""From due feeds to stored stories: fetch, parse, dedup, triage, cluster, summarize, save, route.

Fetching runs concurrently (the Fetcher enforces the per-host and global limits); everything after
the fetch runs in one sequence, oldest item first, so clustering is deterministic and the first
report of an event founds its story.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.config import Settings
from bot.core.stories import Assignment, StoryFeatures, StoryIndex, features
from bot.core.summarize import summarize
from bot.core.taxonomy import Vocabulary
from bot.core.triage import story_importance, triage
from bot.errors import FeedError, UnsafeURLError
from bot.ingest.fetch import Fetcher, FetchResult
from bot.ingest.parse import (
    FeedDocument,
    ItemKey,
    ParsedFeed,
    ParsedItem,
    guid_id,
    item_key,
    parse_feeds_async,
    to_article,
)
from bot.ingest.schedule import backoff_delay, next_check, next_check_for, observed_interval
from bot.log import get_logger
from bot.models import TOPICS, Article, Card, Story, Triage
from bot.routing import route_pending
from bot.store import Store
from bot.store.articles import ArticleRepository, StoredArticle
from bot.store.feeds import DueFeed, Success

log = get_logger(__name__)

# Entity types that can name what a story is "about" (quantities cannot).
_MAIN_ENTITY_TYPES = ("organization", "regulator", "product", "place", "person")

# An optional card rewriter (the LLM backend): items and the extractive card in, a card out.
CardWriter = Callable[[Sequence[tuple[Article, Triage]], Card], Awaitable[Card]]


@dataclass(slots=True)
class FeedOutcome:
    feed_id: int
    url: str
    status: str  # "new" | "unchanged" | "not_modified" | "error" | "disabled"
    items: int = 0  # entries in the feed document
    new_articles: int = 0
    normalised: int = 0  # entries that went through to_article (the ones not known already)
    same_body: bool = False  # a 200 with the body of the last successful poll: not parsed again
    error: str | None = None


@dataclass(slots=True)
class PollReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    new_articles: int = 0
    relevant: int = 0
    stories_created: list[str] = field(default_factory=list)
    stories_updated: list[str] = field(default_factory=list)
    stories_merged: dict[str, str] = field(default_factory=dict)  # folded story -> the one it joined
    deliveries: int = 0

    @property
    def errors(self) -> int:
        return sum(1 for f in self.feeds if f.status in ("error", "disabled"))


@dataclass(slots=True)
class _Fetched:
    """What the concurrent phase hands the sequential one for one feed."""

    feed: DueFeed
    not_modified: bool = False
    result: FetchResult | None = None  # a changed body, until the parse phase parses it
    parsed: ParsedFeed | None = None
    body_hash: bytes | None = None
    same_body: bool = False
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    next_check_at: datetime | None = None
    update_interval_s: float | None = None
    error: FeedError | None = None


@dataclass(slots=True)
class _New:
    article: Article
    alertable: bool


_Triaged = tuple[_New, Triage, StoryFeatures]


@dataclass(frozen=True, slots=True)
class _LastBody:
    """A feed's last body whose every item is in the store (see Pipeline._last)."""

    url: str  # the feed's URL then: an id that SQLite hands to a new feed must not match
    digest: bytes
    items: frozenset[str]  # item_identity of each item


class Pipeline:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        vocab: Vocabulary,
        fetcher: Fetcher,
        *,
        card_writer: CardWriter | None = None,
        rng: random.Random | None = None,
    ):
        self.store = store
        self.settings = settings
        self.vocab = vocab
        self.fetcher = fetcher
        self.card_writer = card_writer
        self.window = timedelta(hours=settings.core.story_window_hours)
        self.index = StoryIndex(window=self.window)
        self._rng = rng or random.Random()
        self._restored = False
        self._lock = asyncio.Lock()  # one poll at a time: the story index is shared state
        # feed id -> its last body that was processed in full. Servers without ETag/Last-Modified
        # (or whose validators change on every request) answer 200 with the same bytes; those
        # need no parse. A changed body mostly repeats items of the last one; those need no
        # query. In memory only: after a restart each feed is parsed and looked up once more,
        # which costs one parse and a few queries, never an item.
        self._last: dict[int, _LastBody] = {}
        # Called with each feed's outcome as it is recorded (the demo's progress display uses it).
        self.on_feed_done: Callable[[FeedOutcome], None] | None = None

    async def restore(self, now: datetime) -> int:
        """Reload recent stories' clustering state so restarts keep joining reports to stories."""
        count = await self.store.stories.restore_index(self.index, since=now - self.window)
        self._restored = True
        log.info("pipeline.restored", stories=count)
        return count

    async def poll_due(self, now: datetime, *, limit: int = 1000) -> PollReport:
        async with self._lock:
            if not self._restored:
                await self.restore(now)
            self.index.expire(now - self.window)
            # Claimed (rescheduled a base interval on) before fetching, so a crash or a failure
            # still moves each feed on; each gets its real next check once answered.
            poll = self.settings.poll
            lease = next_check(
                now, base_s=poll.interval_s, min_s=poll.min_interval_s, max_s=poll.max_interval_s
            )
            feeds = await self.store.feeds.claim_due(now, until=lease, limit=limit)
            report = PollReport()
            if not feeds:
                return report
            answers = await asyncio.gather(*(self._fetch(feed) for feed in feeds))
            # What each answer means for its feed is worked out here, in one loop, rather than
            # in each request's task: interleaved with the HTTP work, the same code ran at about
            # a third of its speed (1,000 304s: ~11 ms against ~4).
            fetched = [self._fetched(feed, answer, now) for feed, answer in zip(feeds, answers, strict=True)]
            # The 304s (most feeds, most polls) are written in one go while the changed bodies are
            # parsed: SQLite lets go of the GIL while it works, so the write costs the poll little.
            not_modified = [
                (r.feed.id, r.next_check_at or self._failure_next(r.feed, now, None))
                for r in fetched
                if r.not_modified
            ]
            written = asyncio.ensure_future(self.store.feeds.record_not_modified_many(not_modified, now=now))
            try:
                # Parsing waits until every request is answered (see parse_feeds_async). The items
                # of a feed's last body are in the store: the parser reads no more of them than
                # their guids and dates, and they are passed over without a query.
                stored = self._stored_items(fetched)
                await self._parse(fetched, now, stored)
                unknown = await unknown_articles_many(
                    self.store.articles,
                    [(r.feed, r.parsed) for r in fetched if r.parsed is not None],
                    stored,
                    self._stale_before(fetched, now),
                )
            finally:
                await written
            new_items: list[_New] = []
            succeeded: list[tuple[_Fetched, int]] = []
            for result in fetched:
                feed = result.feed
                if result.not_modified:  # written above
                    log.debug("feed.not_modified", feed=feed.url, feed_id=feed.id)
                    outcome = FeedOutcome(feed.id, feed.url, "not_modified")
                else:
                    outcome, fresh = await self._record_feed(result, now, unknown.get(feed.id))
                    new_items.extend(fresh)
                    if outcome.status == "new" or outcome.status == "unchanged":
                        succeeded.append((result, len(fresh)))
                report.feeds.append(outcome)
                if self.on_feed_done is not None:
                    self.on_feed_done(outcome)
            # Oldest first across all feeds: the earliest report founds the story.
            new_items.sort(key=lambda n: (n.article.published or now, n.article.id))
            relevant, others = await self._triage(new_items, now, report)
            # Learn the batch's word statistics first, so its earliest reports are judged with the
            # same notion of a rare word as its latest (as bot.core.analyze does).
            for _, _, feats in relevant:
                self.index.learn(feats)
            for entry in relevant:
                await self._cluster_safely(entry, now, report)
            await self._join_or_store(others, now, report)
            # Only now that every new item is stored do the feeds' validators (ETag, Last-Modified)
            # move on: a crash before this point refetches the same items instead of losing them.
            await self._record_successes(succeeded, now)
            report.deliveries = await self._route(now)
            self.store.checkpoint_soon()
            log.info(
                "poll.done",
                feeds=len(feeds),
                new=report.new_articles,
                relevant=report.relevant,
                created=len(report.stories_created),
                updated=len(report.stories_updated),
                errors=report.errors,
                deliveries=report.deliveries,
            )
            return report

    # -- fetch phase (concurrent) -------------------------------------------------------------

    async def _fetch(self, feed: DueFeed) -> FetchResult | FeedError:
        """Conditional GET: the answer, or the error that stands for it."""
        try:
            return await self.fetcher.fetch(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                allow_private=feed.allow_private,
                allow_file=feed.added_by == "config",  # file:// only from the config file
            )
        except FeedError as exc:
            log.bind(feed=feed.url, feed_id=feed.id).warning(
                "feed.failed", error=str(exc), permanent=exc.permanent
            )
            return exc
        except Exception as exc:  # a bug in one feed's handling must not stop the others
            flog = log.bind(feed=feed.url, feed_id=feed.id)  # bound only when there is something to say
            flog.error("feed.crashed", error=f"{type(exc).__name__}: {exc}")
            return FeedError(f"internal error: {type(exc).__name__}: {exc}")

    def _fetched(self, feed: DueFeed, result: FetchResult | FeedError, now: datetime) -> _Fetched:
        """What an answer means for its feed: its next check for a 304 or an unchanged body;
        a changed body is kept for the parse phase."""
        if isinstance(result, FeedError):
            return _Fetched(feed=feed, error=result)
        poll = self.settings.poll
        if result.not_modified:
            return _Fetched(
                feed=feed,
                not_modified=True,
                # No body: the TTL is what the feed's last body said.
                next_check_at=next_check_for(
                    feed, result, now=now, settings=poll, rng=self._rng, ttl_s=feed.ttl_s
                ),
            )
        body_hash = hashlib.blake2b(result.body, digest_size=16).digest()
        last = self._last.get(feed.id)
        if last is not None and last.digest == body_hash and last.url == feed.url:
            return _Fetched(
                feed=feed,
                same_body=True,
                body_hash=body_hash,
                etag=result.etag,
                last_modified=result.last_modified,
                next_check_at=next_check_for(
                    feed, result, now=now, settings=poll, rng=self._rng, ttl_s=feed.ttl_s
                ),
            )
        return _Fetched(
            feed=feed,
            result=result,
            body_hash=body_hash,
            etag=result.etag,
            last_modified=result.last_modified,
        )

    async def _parse(
        self, fetched: Sequence[_Fetched], now: datetime, stored: Mapping[int, frozenset[str]]
    ) -> None:
        """Parse every changed body in one worker-thread job, off the event loop. Normalising
        (to_article) waits for the sequential phase, where the store says which items are
        known: a changed feed usually repeats most of its items."""
        pending = [(r, r.result) for r in fetched if r.result is not None]
        outcomes = await parse_feeds_async(
            [
                FeedDocument(res.body, res.final_url, res.content_type, stored.get(r.feed.id, frozenset()))
                for r, res in pending
            ]
        )
        poll = self.settings.poll
        for (r, result), parsed in zip(pending, outcomes, strict=True):
            r.result = None  # the body is not needed past this point
            feed = r.feed
            if isinstance(parsed, FeedError):
                log.warning(
                    "feed.failed",
                    feed=feed.url,
                    feed_id=feed.id,
                    error=str(parsed),
                    permanent=parsed.permanent,
                )
                r.error = parsed
                continue
            gap = _mean_gap([i.published or i.updated for i in parsed.items])
            r.parsed = parsed
            r.title = parsed.title
            r.update_interval_s = (
                observed_interval(feed.update_interval_s, gap) if gap else feed.update_interval_s
            )
            r.next_check_at = next_check_for(
                feed, result, now=now, settings=poll, rng=self._rng, ttl_s=parsed.ttl_s
            )

    def _failure_next(self, feed: DueFeed, now: datetime, error: FeedError | None) -> datetime:
        """After a failure: exponential backoff, or longer when the server said Retry-After.
        Without an error: the base interval, with jitter (for an answer that set no next check)."""
        poll = self.settings.poll
        if error is None:
            return next_check(
                now,
                base_s=poll.interval_s,
                min_s=poll.min_interval_s,
                max_s=poll.max_interval_s,
                jitter=poll.jitter,
                rand=self._rng.random(),
            )
        delay = backoff_delay(
            feed.error_count + 1, base_s=poll.interval_s, max_s=poll.max_interval_s, rand=self._rng.random()
        )
        return now + timedelta(seconds=max(delay, error.retry_after or 0.0))

    # -- sequential phase ----------------------------------------------------------------------

    async def _record_feed(
        self, result: _Fetched, now: datetime, unknown: tuple[list[Article], int] | None
    ) -> tuple[FeedOutcome, list[_New]]:
        """The outcome of a feed that failed or answered with a body: its new items, and its
        failure written to the store. (304s are handled by the caller.)"""
        feed = result.feed
        flog = log.bind(feed=feed.url, feed_id=feed.id)
        if result.error is not None:
            updated = await self.store.feeds.record_failure(
                feed.id,
                error=str(result.error),
                now=now,
                next_check_at=self._failure_next(feed, now, result.error),
                max_errors=self.settings.poll.max_consecutive_errors,
                # Every failure counts toward the limit; only a refusal by the SSRF guard (the
                # name now points somewhere private) disables at once, as retrying cannot help.
                permanent=isinstance(result.error, UnsafeURLError),
            )
            if not updated.enabled:
                flog.warning("feed.disabled", reason=updated.disabled_reason)
                return FeedOutcome(feed.id, feed.url, "disabled", error=updated.disabled_reason), []
            return FeedOutcome(feed.id, feed.url, "error", error=str(result.error)), []
        fresh, normalised = unknown if unknown is not None else ([], 0)
        alertable = self._alertable(feed, fresh, now)
        items = [_New(a, a.id in alertable) for a in fresh]
        total = len(result.parsed.items) if result.parsed else 0
        flog.info(
            "feed.fetched",
            items=total,
            normalised=normalised,
            new=len(fresh),
            alertable=len(alertable),
            same_body=result.same_body,
        )
        status = "new" if fresh else "unchanged"
        outcome = FeedOutcome(
            feed.id,
            feed.url,
            status,
            items=total,
            new_articles=len(fresh),
            normalised=normalised,
            same_body=result.same_body,
        )
        return outcome, items

    def _stored_items(self, fetched: Sequence[_Fetched]) -> dict[int, frozenset[str]]:
        """Per changed feed: the items of its last body, all of them in the store."""
        out: dict[int, frozenset[str]] = {}
        for r in fetched:
            if r.result is not None:  # a body waiting to be parsed
                last = self._last.get(r.feed.id)
                if last is not None and last.url == r.feed.url:
                    out[r.feed.id] = last.items
        return out

    def _stale_before(self, fetched: Sequence[_Fetched], now: datetime) -> dict[int, datetime]:
        """Per changed feed past its first poll: items dated before this are not news to it.
        Retention prunes articles this old, so the store no longer knows them; a slow feed that
        still lists them would otherwise bring each back as new (and alert it) when it changes.
        (A first poll keeps them: they give stories their history.)"""
        cutoff = now - timedelta(days=self.settings.store.retention_days)
        return {r.feed.id: cutoff for r in fetched if r.parsed is not None and r.feed.first_poll_done}

    async def _record_successes(self, succeeded: Sequence[tuple[_Fetched, int]], now: datetime) -> None:
        successes = []
        for result, new_items in succeeded:
            feed = result.feed
            if result.body_hash is not None and result.parsed is not None:
                # Only now, with every item of this body stored, may the same body be skipped
                # and its items be taken as known.
                self._last[feed.id] = _LastBody(
                    feed.url,
                    result.body_hash,
                    frozenset(filter(None, map(item_identity, result.parsed.items))),
                )
            successes.append(
                Success(
                    feed.id,
                    next_check_at=result.next_check_at or self._failure_next(feed, now, None),
                    etag=result.etag,
                    last_modified=result.last_modified,
                    title=result.title,
                    new_items=new_items,
                    update_interval_s=result.update_interval_s,
                    # A body not parsed again (the same bytes) said what it said last time.
                    ttl_s=result.parsed.ttl_s if result.parsed is not None else feed.ttl_s,
                )
            )
        await self.store.feeds.record_success_many(successes, now=now)

    def _alertable(self, feed: DueFeed, fresh: Sequence[Article], now: datetime) -> set[str]:
        """Which new items may alert. A feed's first poll alerts only a few recent ones."""
        if feed.first_poll_done or feed.backfill:
            return {a.id for a in fresh}
        poll = self.settings.poll
        cutoff = now - timedelta(hours=poll.max_age_hours)
        recent = [a for a in fresh if a.published is not None and a.published >= cutoff]
        recent.sort(key=lambda a: a.published or now, reverse=True)
        return {a.id for a in recent[: poll.first_poll_max_alerts]}

    async def _triage(
        self, new_items: Sequence[_New], now: datetime, report: PollReport
    ) -> tuple[list[_Triaged], list[_Triaged]]:
        """Triage the poll's new articles in one worker-thread job: the relevant ones and the
        others, each with its story features. (Articles the core failed on are stored at once.)"""
        # The same item from another feed in this poll counts once (the store's copies were
        # ruled out by unknown_articles_many).
        seen: set[str] = set()
        items: list[_New] = []
        for item in new_items:
            article = item.article
            keys = {f"id:{article.id}", f"hash:{article.content_hash}"}
            if article.url:
                keys.add(f"url:{article.url}")
            if keys & seen:
                continue
            seen.update(keys)
            items.append(item)
        report.new_articles += len(items)
        outcomes = await asyncio.to_thread(_triage_all, [i.article for i in items], self.vocab)
        relevant: list[_Triaged] = []
        others: list[_Triaged] = []
        unclustered: list[tuple[Article, Triage | None, bool]] = []
        for item, outcome in zip(items, outcomes, strict=True):
            article = item.article
            if isinstance(outcome, Exception):  # one article the core cannot handle must not stop the poll
                log.error(
                    "article.failed",
                    article=article.id,
                    url=article.url,
                    error=f"{type(outcome).__name__}: {outcome}",
                )
                unclustered.append((article, None, False))
                continue
            found, feats = outcome
            if found.relevant:
                report.relevant += 1
                relevant.append((item, found, feats))
            else:
                others.append((item, found, feats))
        await self.store.articles.insert_many(unclustered, fetched=now)
        return relevant, others

    async def _join_or_store(self, others: Sequence[_Triaged], now: datetime, report: PollReport) -> None:
        """Articles triage found no subject in: one that reports the same event as a relevant
        story joins it (and is relevant for it); the rest are stored, for dedup and /status."""
        unclustered: list[tuple[Article, Triage | None, bool]] = []
        for item, found, feats in others:
            article = item.article
            joined = self.index.join(feats, min(article.published or now, now))
            if joined is None:
                unclustered.append((article, found, item.alertable))
                continue
            story = await self.store.stories.get(joined.story_id)
            found = triage(article, self.vocab, same_event_as=story.title if story else joined.story_id)
            report.relevant += 1
            await self._cluster_safely((item, found, feats), now, report, joined)
        await self.store.articles.insert_many(unclustered, fetched=now)

    async def _cluster_safely(
        self, entry: _Triaged, now: datetime, report: PollReport, joined: Assignment | None = None
    ) -> None:
        try:
            await self._cluster(entry, now, report, joined)
        except Exception as exc:  # keep the article (without a story); the poll goes on
            item, found, _ = entry
            log.error("article.cluster_failed", article=item.article.id, error=f"{type(exc).__name__}: {exc}")
            await self.store.articles.insert(item.article, fetched=now, triage=found, alertable=False)

    async def _cluster(
        self, entry: _Triaged, now: datetime, report: PollReport, joined: Assignment | None
    ) -> None:
        """Join the article to its story (or found one), rebuild the card, note what changed.
        `joined`: the index already joined it (see _join_or_store)."""
        item, found, feats = entry
        article = item.article
        when = min(article.published or now, now)
        assignment = joined or self.index.assign(article.id, feats, when, learn=False)
        story_id = assignment.story_id
        if assignment.merged:  # this report joined stories that were one event all along
            await self.store.stories.merge(assignment.merged, into=story_id)
            log.info("story.merged", story=story_id, merged=",".join(assignment.merged), article=article.id)
            for gone in assignment.merged:
                report.stories_merged[gone] = story_id
                for listed in (report.stories_created, report.stories_updated):
                    if gone in listed:
                        listed.remove(gone)
        stored = [s for s in await self.store.articles.by_story(story_id) if s.triage is not None]
        stored.append(StoredArticle(article, found, now, story_id, item.alertable))
        stored.sort(key=lambda s: (-(s.triage.importance if s.triage else 0), s.article.published or now))
        story, main_entity = await self._build_story(story_id, stored, assignment.new_facts, now)
        await self.store.stories.save(
            story,
            now=now,
            signature=self.index.state(story_id),
            main_entity=main_entity,
            relevant=True,
            article_count=len(stored),
            outlet_count=len(story.sources),
        )
        # After the story row exists (the foreign key), and only now: a crash before this point
        # leaves the item unstored, so the next poll takes it again.
        await self.store.articles.insert(
            article, fetched=now, triage=found, story_id=story_id, alertable=item.alertable
        )
        await self._record_update(story_id, article, stored, assignment.new_facts, item.alertable, now)
        if assignment.created:
            report.stories_created.append(story_id)
        elif story_id not in report.stories_created and story_id not in report.stories_updated:
            report.stories_updated.append(story_id)

    async def _build_story(
        self, story_id: str, stored: Sequence[StoredArticle], new_facts: Sequence[str], now: datetime
    ) -> tuple[Story, str | None]:
        items: list[tuple[Article, Triage]] = [(s.article, s.triage) for s in stored if s.triage]
        top_article, top_triage = items[0]
        sources = []
        for article, _ in items:
            name = article.source or article.url or ""
            if name and name not in sources:
                sources.append(name)
        times = [min(a.published or now, now) for a, _ in items]
        first_seen, last_seen = min(times), max(times)
        main_entity = _main_entity(items)
        history = (
            await self.store.stories.history(main_entity, before=first_seen, exclude=story_id)
            if main_entity
            else []
        )
        novelty = 1.0 if len(items) == 1 else min(1.0, len(new_facts) / 3)
        importance, evidence = story_importance(
            max(t.importance for _, t in items), outlets=len(sources), novelty=novelty
        )
        card = summarize(items, history=history, vocab=self.vocab)
        if self.card_writer is not None:
            card = await self.card_writer(items, card)
        topics = {topic for _, t in items for topic in t.topics}
        entities: list[str] = []
        for _, t in items:
            for e in t.entities:
                if e.type in _MAIN_ENTITY_TYPES and e.name not in entities:
                    entities.append(e.name)
        explanation = "; ".join(part for part in (top_triage.explanation, evidence) if part)
        story = Story(
            id=story_id,
            title=card.title or top_article.title,
            first_seen=first_seen,
            last_seen=last_seen,
            importance=importance,
            topics=tuple(t for t in TOPICS if t in topics),
            entities=tuple(entities),
            article_ids=tuple(a.id for a, _ in items),
            explanation=explanation,
            card=card,
        )
        return replace(story, sources=tuple(card.sources)), main_entity

    async def _record_update(
        self,
        story_id: str,
        article: Article,
        stored: Sequence[StoredArticle],
        new_facts: Sequence[str],
        alertable: bool,
        now: datetime,
    ) -> None:
        """Note what this article adds, for routing: the story's first alertable report is
        'created'; later ones from a new outlet are 'outlet'; new figures or names are 'facts'."""
        if not alertable:
            return
        stories = self.store.stories
        if not await stories.has_update(story_id, "created"):
            await stories.add_update(story_id, article.id, "created", now=now)
            return
        source = article.source or ""
        earlier = {s.article.source for s in stored if s.article.id != article.id}
        if source and source not in earlier:
            detail = source + (": " + ", ".join(new_facts) if new_facts else "")
            await stories.add_update(story_id, article.id, "outlet", now=now, detail=detail)
        elif new_facts:
            await stories.add_update(story_id, article.id, "facts", now=now, detail=", ".join(new_facts))

    async def _route(self, now: datetime) -> int:
        """Turn the story updates just recorded into deliveries for the subscribed channels."""
        return await route_pending(self.store, now)


class FeedRef(Protocol):
    """Which feed items came from: a claimed DueFeed or a whole Feed row."""

    @property
    def id(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def title(self) -> str | None: ...


@dataclass(slots=True)
class _Entry:
    feed: FeedRef
    parsed: ParsedFeed
    item: ParsedItem
    key: ItemKey | None
    id: str | None


def item_identity(item: ParsedItem) -> str | None:
    """What tells an item from the other items of its feed, as the feed wrote it: its guid, else
    its link ("\0" first, so a link never equals a guid); None when it has neither."""
    guid = (item.guid or "").strip()
    if guid:
        return guid
    return "\0" + item.link if item.link else None


async def unknown_articles_many(
    articles: ArticleRepository,
    batch: Sequence[tuple[FeedRef, ParsedFeed]],
    stored: Mapping[int, AbstractSet[str]] | None = None,
    stale_before: Mapping[int, datetime] | None = None,
) -> dict[int, tuple[list[Article], int]]:
    """Per feed id: the feed's items the store does not hold yet, normalised, and how many items
    were normalised.

    Passed over without a query: items the parser marked `known` (it was told they are stored)
    and, per feed id, the items in `stored` (item_identity of items known to be in the store:
    those of the feed's last body that was processed in full), and
    items dated before `stale_before` (older than anything the store keeps: once retention has
    pruned an item that its feed still lists, the store cannot tell it from a new one).

    Known items are recognised by their cheap identity (article id from feed URL + guid, the
    feed's guid, the canonical URL) before any text clean-up or hashing. What is left is
    normalised and checked once more by content hash, so a feed that rewrites GUIDs and links
    of items it already published still adds nothing. The whole poll's feeds share each query
    (three or four in all), and normalising runs in one worker-thread job."""
    entries: list[_Entry] = []
    for feed, parsed in batch:
        done = stored.get(feed.id) if stored else None
        cutoff = stale_before.get(feed.id) if stale_before else None
        for item in parsed.items:
            if item.known or (done and item_identity(item) in done):
                continue
            if cutoff is not None:
                dated = item.published or item.updated
                if dated is not None and dated < cutoff:
                    continue
            # Ids from the guid alone where there is one (canonicalising links costs about as
            # much as the rest of the identity); guid-less items need their canonical link.
            by_guid = guid_id(item, feed.url)
            key = None if by_guid else item_key(item, feed.url)
            entries.append(_Entry(feed, parsed, item, key, by_guid or (key.id if key else None)))
    known_ids = await articles.existing_ids(list({e.id for e in entries if e.id is not None}))
    left: list[tuple[_Entry, ItemKey]] = [
        (e, e.key or item_key(e.item, e.feed.url)) for e in entries if e.id is None or e.id not in known_ids
    ]
    keyed = [(e, k) for e, k in left if k.id is not None]
    known_guids, known_urls = await articles.known_keys(
        list({(e.feed.id, k.guid) for e, k in keyed if k.guid}), list({k.url for _, k in keyed if k.url})
    )
    todo = [
        (e, k)
        for e, k in left
        if k.id is None or not ((e.feed.id, k.guid) in known_guids or (k.url and k.url in known_urls))
    ]
    normalised = await asyncio.to_thread(_normalise, todo) if todo else []
    known_hashes = await articles.known_hashes(list({a.content_hash for a in normalised if a.content_hash}))
    out: dict[int, tuple[list[Article], int]] = {feed.id: ([], 0) for feed, _ in batch}
    for (entry, _), article in zip(todo, normalised, strict=True):
        fresh, count = out[entry.feed.id]
        if not article.content_hash or article.content_hash not in known_hashes:
            fresh.append(article)
        out[entry.feed.id] = (fresh, count + 1)
    return out


def _normalise(entries: Sequence[tuple[_Entry, ItemKey]]) -> list[Article]:
    return [
        to_article(e.item, e.parsed, feed_id=e.feed.id, source=e.feed.title, feed_url=e.feed.url, key=k)
        for e, k in entries
    ]


def _triage_all(
    articles: Sequence[Article], vocab: Vocabulary
) -> list[tuple[Triage, StoryFeatures] | Exception]:
    """Triage and story features of each article (the irrelevant too: one may turn out to report
    a relevant story's event); an article the core cannot handle gives its exception instead."""
    out: list[tuple[Triage, StoryFeatures] | Exception] = []
    for article in articles:
        try:
            found = triage(article, vocab)
            out.append((found, features(article, found)))
        except Exception as exc:
            out.append(exc)
    return out


def _main_entity(items: Sequence[tuple[Article, Triage]]) -> str | None:
    """What the story is about, for its timeline: the most important report's organization, else
    its regulator, product, place or person (in that order), else the same from the other reports."""
    for _, found in items:
        for kind in _MAIN_ENTITY_TYPES:
            name = next((e.name for e in found.entities if e.type == kind), None)
            if name:
                return name
    return None


def _mean_gap(published: Sequence[datetime | None]) -> float | None:
    """The mean gap between the feed's recent items, in seconds (how often it really updates)."""
    dates = sorted({d for d in published if d is not None}, reverse=True)[:20]
    if len(dates) < 2:
        return None
    return (dates[0] - dates[-1]).total_seconds() / (len(dates) - 1)


def utcnow() -> datetime:
    """The clock, read only at the edges (scheduler, CLI), never inside the core."""
    return datetime.now(UTC)
