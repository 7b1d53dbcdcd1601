"""The model -> desired-state YAML that `load` reads back to an equal model.

Defaults are written out per customer (no `defaults:` block); only values that differ from a
field's default are written. Strings are written plain when YAML 1.1 and 1.2 both read them as
that very string, and double-quoted with escapes otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from reconcile.durations import format_duration
from reconcile.escape import text as escape_text
from reconcile.model import PLATFORMS_BY_KEY

if TYPE_CHECKING:  # the desired model, imported by what builds one (a run reads files first)
    from reconcile.model import Customer, DesiredState, Policy

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]*")
_PLAIN_SUFFIX_OK = re.compile(r".*[A-Za-z0-9._@-]")
_LOOKS_TYPED = re.compile(
    r"""(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    |null|Null|NULL|~|[-+]?[0-9][0-9_:.eE+-]*|0[box][0-9a-fA-F_]+|\.(?:inf|Inf|INF|nan|NaN|NAN))""",
    re.X,
)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quote(text: str) -> str:
    """`text` as a YAML scalar that every YAML reader reads back as exactly this string."""
    if (
        _PLAIN.fullmatch(text)
        and _PLAIN_SUFFIX_OK.fullmatch(text)
        and not _LOOKS_TYPED.fullmatch(text)
    ):
        return text
    out = ['"']
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _customer_lines(customer: Customer) -> list[str]:
    lines = [f"  - uid: {quote(customer.uid)}", f"    name: {quote(customer.name)}"]
    if customer.description is not None:
        lines.append(f"    description: {quote(customer.description)}")
    if customer.tags:
        lines.append("    tags:")
        lines.extend(f"      {quote(k)}: {quote(v)}" for k, v in customer.tags.items())
    if customer.keep_accounting:
        lines.append("    accounting: {keep: true}")
    elif customer.accounting is not None:
        platform = PLATFORMS_BY_KEY.get(customer.accounting)
        alias = platform.aliases[0] if platform is not None else customer.accounting
        lines.append(f"    accounting: {alias}")
    if customer.expenses:
        lines.append("    expenses: true")
    config = customer.expense_config
    if config is not None:
        lines.append("    expenseConfig:")
        named = dict(config.names)
        for field, value in (
            ("bankAccount", config.bank_account),
            ("supplier", config.supplier),
            ("customer", config.customer),
        ):
            # In a flow mapping a plain scalar may not hold `,` `{` `}`: always double-quote.
            name = json.dumps(named.get(field, ""), ensure_ascii=False)
            shown = f"{{name: {name}}}" if field in named else quote(value)
            lines.append(f"      {field}: {shown}")
    if customer.id is not None:
        lines.append(f"    id: {quote(customer.id)}")
    if customer.protect:
        lines.append("    protect: true")
    elif customer.unprotect:
        lines.append("    protect: false")
    if customer.state != "present":
        lines.append(f"    state: {customer.state}")
    return lines


def comment(line: str, indent: str = "") -> str:
    """A YAML comment line: whatever `line` holds, it stays one comment (no line break, no
    control character reaches the file)."""
    safe = line if line.isprintable() else escape_text(line)
    return f"{indent}# {safe}".rstrip()


def dump(
    state: DesiredState,
    *,
    comments: Mapping[str, Sequence[str]] | None = None,
    header: Sequence[str] = (),
    footer: Sequence[str] = (),
) -> str:
    """YAML text for `state`, readable by `reconcile.desired.load` back to an equal model.

    `comments` (by uid) go just above that customer, `header` above `version:`, `footer` at
    the end; each line becomes one `#` comment."""
    comments = comments or {}
    lines = [comment(line) for line in header]
    lines += ["version: 1", f"owner: {quote(state.owner)}"]
    lines.extend(_policy_lines(state.policy))
    if not state.customers:
        lines.append("customers: []")
    else:
        lines.append("customers:")
        for customer in state.customers:
            lines.extend(comment(line, "  ") for line in comments.get(customer.uid, ()))
            lines.extend(_customer_lines(customer))
    lines.extend(comment(line) for line in footer)
    return "\n".join(lines) + "\n"


def _policy_lines(policy: Policy) -> list[str]:
    """`policy:` only when it differs from the default (auto in the schema's order)."""
    from reconcile.model import AUTO_KINDS, Policy

    if policy == Policy():
        return []
    lines = ["policy:"]
    if policy.auto != Policy().auto:
        kinds = [k for k in AUTO_KINDS if k in policy.auto]
        lines.append(f"  auto: [{', '.join(kinds)}]")
    if policy.prune:
        lines.append("  prune: true")
    if policy.refresh_data_every != Policy().refresh_data_every:
        lines.append(f"  refreshDataEvery: {format_duration(policy.refresh_data_every)}")
    return lines
