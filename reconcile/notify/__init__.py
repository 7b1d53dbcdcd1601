"""Notifications: to the partner's app (signed events with fresh Link URLs) and to the team (what
a person must act on, and the watch's own health). Configured by the deployment (`--notify FILE`),
never by the customers files. The modules:

    config.py    the notifications file: channels, event filters, reminders; secrets from the
                 environment (NAME or NAME_FILE)
    states.py    where each customer stands after a pass, and the problems (pure)
    changes.py   what changed since the last pass, so what to tell (pure)
    store.py     the state and the outbox, in SQLite beside the watch (a restart repeats none)
    send.py      one message on one channel: Standard Webhooks, Slack-compatible, SMTP, JSON
    notifier.py  queue, send what is due, retry with backoff, metrics
    watching.py  the notifier inside `watch`: after each pass, refused deliveries, the quota
"""
