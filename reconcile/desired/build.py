"""Validated plain data -> the typed model (defaults merged, platform aliases resolved)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from sys import intern
from types import MappingProxyType
from typing import Any, cast

from reconcile.durations import parse_duration
from reconcile.model import (
    AccountSettings,
    ConsumerWanted,
    Customer,
    CustomerState,
    DesiredState,
    Environment,
    ExpenseConfig,
    Location,
    Moved,
    Policy,
    SyncWanted,
    resolve_platform,
)

Locate = Callable[[int], tuple[int, int]]
"""Where customer number i of a file is written (its uid key), 1-based (line, col)."""


def build_state(files: Sequence[tuple[str, Any, Locate]], *, release: bool = False) -> DesiredState:
    """The model of data that has passed every check; files in the order they were read.

    With `release` (the data is let go after), the model holds none of the data's objects: its
    strings are its own (tag names and values shared), so once the data goes, the memory it
    took goes back whole (100,000 customers' data is about 100 MB, spread over every block of
    memory it took: a model that kept its strings would keep nearly all of it). Customers whose
    tags are the same (in the same order) share one map (`TagMaps`)."""
    owner = ""
    policy = Policy()
    customers: list[Customer] = []
    environments: dict[str, Environment] = {}
    promote: tuple[str, ...] = ()
    moved: list[Moved] = []
    tag_maps = TagMaps()
    own = Own()
    for file, data, locate in files:
        owner = owner or data["owner"]
        for name, env in (data.get("environments") or {}).items():
            environments[name] = Environment(
                name,
                env["account"],
                env["api_key_env"],
                env.get("base_url"),
                settings_of(env["settings"]) if "settings" in env else None,
            )
        promote = promote or tuple(data.get("promote") or ())
        if "policy" in data:  # the cross-file checks made sure every file says the same
            policy = policy_of(data["policy"])
        for entry in data.get("moved") or ():
            moved.append(Moved(entry["from"], entry["to"]))
        defaults: dict[str, Any] = data.get("defaults") or {}
        raws = data["customers"]
        for index, raw in enumerate(raws):
            line, col = locate(index)
            if release:
                raw = own.customer(raw)
            customer = _customer(raw, defaults, Location(file, line, col), tag_maps)
            customers.append(customer)
    return DesiredState(
        owner=owner,
        customers=tuple(customers),
        files=tuple(file for file, _, _ in files),
        environments=environments,
        promote=promote,
        policy=policy,
        moved=tuple(moved),
    )


def policy_of(raw: dict[str, Any] | None) -> Policy:
    """`policy:` as written; a key left out keeps its default (`auto: []` allows nothing)."""
    raw = raw or {}
    default = Policy()
    auto = frozenset(raw["auto"]) if "auto" in raw else default.auto
    every = raw.get("refreshDataEvery")
    return Policy(
        auto=auto,
        prune=bool(raw.get("prune", default.prune)),
        # the schema's pattern admits only what parses (a positive number of w, d, h)
        refresh_data_every=parse_duration(every) if every else default.refresh_data_every,
    )


class Own:
    """Copies of what the model keeps of the data (`build_state` with `release`): its strings
    (tag names and values interned, each copied once per build), dicts and lists. A customer's
    own keys are not copied: the model keeps none of them."""

    __slots__ = ("_shared",)

    def __init__(self) -> None:
        self._shared: dict[str, str] = {}

    def customer(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {key: self.value(item, key == "tags") for key, item in raw.items()}

    def value(self, value: Any, shared: bool = False) -> Any:
        if type(value) is str:
            if not shared:
                return _copy(value)
            known = self._shared.get(value)
            if known is None:
                known = self._shared[value] = intern(_copy(value))
            return known
        if type(value) is dict:
            return {
                self.value(key, shared): self.value(item, shared or key == "tags")
                for key, item in value.items()
            }
        if type(value) is list:
            return [self.value(item, shared) for item in value]
        return value


def _copy(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


class TagMaps:
    """One read-only tag map per distinct map (same pairs, same order): a fleet's customers
    share a few hundred (region, plan, team...), where a map each is 18 MB at 100,000. The
    model's tags are a `Mapping`, never written to."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}

    def share(self, tags: Mapping[str, str]) -> Mapping[str, str]:
        return self._known.setdefault(tuple(tags.items()), tags)


def _customer(
    raw: dict[str, Any], defaults: dict[str, Any], location: Location, tag_maps: TagMaps
) -> Customer:
    def pick(key: str, fallback: Any = None) -> Any:
        return raw[key] if key in raw else defaults.get(key, fallback)

    company_id = raw.get("id")
    listed = raw.get("environments")
    overrides = raw.get("overrides")
    fields = _overridden(raw, defaults, every=True)
    fields["tags"] = tag_maps.share(fields["tags"])
    return Customer(
        uid=raw["uid"],
        name=raw["name"],
        description=pick("description"),
        expenses=bool(pick("expenses", False)),
        id=company_id.lower() if company_id is not None else None,
        location=location,
        environments=frozenset(listed) if listed is not None else None,
        overrides={name: _overridden(given, defaults) for name, given in overrides.items()}
        if overrides
        else NO_OVERRIDES,
        **fields,
    )


NO_OVERRIDES: Mapping[str, Mapping[str, object]] = MappingProxyType({})
"""One empty, read-only `overrides` for every customer without any (a dict each: 6 MB at
100,000 customers)."""


def _overridden(
    raw: dict[str, Any], defaults: dict[str, Any], every: bool = False
) -> dict[str, Any]:
    """The overridable fields `raw` gives (all of them, defaults merged, when `every`), by their
    model names: the customer's own, or one environment's overrides."""

    def pick(key: str, fallback: Any = None) -> Any:
        return raw[key] if key in raw else defaults.get(key, fallback)

    fields: dict[str, Any] = {}
    if every or "accounting" in raw:
        accounting = pick("accounting")
        # `{keep: true}`, the only object the schema allows: the company's accounting stays as
        # it is (never unlinked, deleted or replaced); `accounting` is then None.
        platform = resolve_platform(accounting) if isinstance(accounting, str) else None
        fields["accounting"] = platform.key if platform is not None else None
        fields["keep_accounting"] = isinstance(accounting, dict)
    if every or "expenseConfig" in raw:
        config = raw.get("expenseConfig")
        fields["expense_config"] = expense_config_of(config) if config is not None else None
    if every or "tags" in raw:
        own, default_tags = raw.get("tags"), defaults.get("tags")
        # The file's own map when there is nothing to merge (its data is not used again).
        fields["tags"] = (
            own if own and not default_tags else {**(default_tags or {}), **(own or {})}
        )
    if every or "protect" in raw:
        fields["protect"] = bool(pick("protect", False))
        fields["unprotect"] = pick("protect") is False
    if every or "state" in raw:
        fields["state"] = cast(CustomerState, raw.get("state", "present"))
    return fields


CONFIG_FIELDS = ("bankAccount", "supplier", "customer")


def expense_config_of(raw: dict[str, Any]) -> ExpenseConfig:
    """`expenseConfig` as written: each field an id (a string) or `{name: ...}` (its id left ""
    for the planner to resolve)."""
    ids = {f: raw[f] if isinstance(raw[f], str) else "" for f in CONFIG_FIELDS}
    names = tuple((f, str(raw[f]["name"])) for f in CONFIG_FIELDS if isinstance(raw[f], dict))
    return ExpenseConfig(ids["bankAccount"], ids["supplier"], ids["customer"], names)


def settings_of(raw: dict[str, Any]) -> AccountSettings:
    """An environment's `settings:` as written (the schema checked its shape)."""
    sync = tuple(
        SyncWanted(data_type, wanted.get("fetchOnFirstLink"), wanted.get("syncSchedule"))
        for data_type, wanted in sorted((raw.get("syncSettings") or {}).items())
    )
    consumer = raw.get("webhookConsumer")
    return AccountSettings(
        sync,
        ConsumerWanted(
            consumer["url"],
            tuple(consumer["eventTypes"]),
            tuple(consumer["companyTags"]) if "companyTags" in consumer else None,
        )
        if consumer is not None
        else None,
    )
