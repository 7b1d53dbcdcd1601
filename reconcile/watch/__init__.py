"""`reconcile watch`: the long-running controller that keeps Codat converged.

Codat's webhooks are hints: each verified delivery queues its company, and the scheduler runs a
converge pass of that one company, read fresh (the payload's status is never trusted). A pass of
the whole fleet runs every `--resync` (a resync: the listing and what changed in it), so a lost
delivery costs at most that; expense configs are swept at their own slow cadence, within a
request budget. The modules:

    signature.py     Standard Webhooks verification (also Codat's older svix-* header names)
    receiver.py      the ASGI apps: public (POST /webhooks/codat, GET /healthz) and internal
                     (the status page GET / and /customers/UID, GET /status, /metrics,
                     /healthz, POST /resync; only its own host names)
    deliveries.py    the last delivery accepted and refused; refusals logged with their likely
                     cause, at most one line a minute
    seen.py          the delivery ids already accepted, in SQLite (a replay after a restart)
    guard.py         the listeners' read deadline, connection cap and accept-error log
    events.py        what a verified event hints at (a company, a quota pause or reset)
    work.py          the queue of companies to converge, coalesced, plus the resync flag
    scheduler.py     runs passes one at a time: events, the resync timer, quota pauses, stops
    passes.py        what the scheduler needs from a pass (`PassReport`) and the default pass
    resync.py        what a resync reads: the last listing's fingerprints, the configs last read
    sweep.py         the config sweep: every configured customer's config once per period
    budget.py        the requests sent today (UTC) against a share of Codat's client limit
    status.py        what waits for whom, the funnel, reported connection errors, for /status
                     and the status page (never a Link URL or a company id)
    timeline.py      each customer's timeline: what the watch saw and did, bounded
    metrics.py       Prometheus metrics in a private registry
    reload.py        the desired files: re-read on SIGHUP or a change; an invalid file keeps the
                     last good one
    registration.py  --register URL: make sure Codat has a webhook consumer for it
    controller.py    the servers and the scheduler in one loop; SIGTERM, SIGINT, SIGHUP
"""
