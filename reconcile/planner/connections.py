"""A company's connections as one customer's plan reads them, sorted in one pass.

The rules of `reconcile.planner.present` ask several questions of the same few connections
(which accounting ones are active, which the file can name, which are on the wanted platform,
which are Deauthorized there). Asked one list at a time, a plan of 10,000 customers called the
connections' derived properties about 30,000 times each; here each connection's are read once.
"""

from __future__ import annotations

from reconcile.model import Connection, Platform, Status

LINKED, DEAUTHORIZED = Status.LINKED.value, Status.DEAUTHORIZED.value

# (active and nameable, active and not nameable, those of the first on the wanted platform,
# Deauthorized on the wanted platform): accounting connections each, in the company's order.
Sorted = tuple[list[Connection], list[Connection], list[Connection], list[Connection]]


def sort_accounting(connections: tuple[Connection, ...], platform: Platform | None) -> Sorted:
    """The company's accounting connections by what the planner does with them (see `Sorted`);
    with no `platform` wanted, the last two are empty."""
    named: list[Connection] = []
    unnamed: list[Connection] = []
    wanted: list[Connection] = []
    deauthorized: list[Connection] = []
    for conn in connections:
        if not conn.is_accounting:
            continue
        # An accounting connection is nameable exactly when its platform is known
        # (`Connection.nameable`), so one `platform` serves both questions. Platforms are the
        # registry's own objects: `is` answers the common case before `==` is asked.
        on = conn.platform
        if conn.active:
            if on is None:
                unnamed.append(conn)
                continue
            named.append(conn)
            if platform is not None and (on is platform or on == platform):
                wanted.append(conn)
        elif (
            platform is not None
            and conn.status == DEAUTHORIZED
            and (on is platform or on == platform)
        ):
            deauthorized.append(conn)
    return named, unnamed, wanted, deauthorized


def partner_linked(connections: tuple[Connection, ...]) -> bool:
    """Whether the company has a Linked partner expense connection (the status first: it is a
    field, the source type a property)."""
    for conn in connections:  # noqa: SIM110 (a loop: `any` makes a generator per customer)
        if conn.status == LINKED and conn.is_partner_expense:
            return True
    return False
