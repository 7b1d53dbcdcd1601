"""`reconcile sandbox webhooks`: the webhook consumers of a sandbox file and their signing
secrets, standing in for Codat's portal (the API never returns a secret)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconcile.sandbox.cli.customer import _shown as shown
from reconcile.sandbox.cli.customer import _store as store_at
from reconcile.sandbox.cli.customer import db_option


@click.command("webhooks")
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON array (id, url, secret, ...).")
def webhooks(db_path: Path, as_json: bool) -> None:
    """List the webhook consumers with their ids, URLs and whsec_ signing secrets."""
    from reconcile.sandbox.webhooks.store import WebhookStore

    consumers = WebhookStore(store_at(db_path)).consumers()
    if as_json:
        rows = [{**c.to_wire(), "secret": c.secret} for c in consumers]
        click.echo(json.dumps(rows, indent=2))
        return
    if not consumers:
        click.echo("no webhook consumers (create one with POST /webhooks)")
        return
    for c in consumers:
        events = ", ".join(shown(e) for e in c.event_types) or "every event"
        tags = ", ".join(shown(t) for t in c.company_tags or ()) or "any company"
        state = " (disabled)" if c.disabled else ""
        click.echo(f"{c.id}  {shown(c.url)}{state}")
        click.echo(f"    secret: {c.secret}")
        click.echo(f"    events: {events}; companies tagged: {tags}")
