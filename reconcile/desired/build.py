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
        make = Customers(data.get("defaults") or {}, tag_maps, own if release else None)
        for index, raw in enumerate(data["customers"]):
            line, col = locate(index)
            customers.append(make.customer(raw, Location(file, line, col)))
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
    (tag names and values interned, each copied once per build), dicts and lists."""

    __slots__ = ("_shared",)

    def __init__(self) -> None:
        self._shared: dict[str, str] = {}

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

    def share(self, tags: Mapping[str, str], own: Own | None = None) -> Mapping[str, str]:
        """The map shared by every map equal to `tags` (in the same order); with `own`, a map
        seen first is copied (`Own`), so the model keeps none of the data's strings."""
        pairs = tuple(tags.items())
        known = self._known.get(pairs)
        if known is None:
            if own is not None:
                tags = own.value(tags, shared=True)
                pairs = tuple(tags.items())
            known = self._known[pairs] = tags
        return known


NO_OVERRIDES: Mapping[str, Mapping[str, object]] = MappingProxyType({})
"""One empty, read-only `overrides` for every customer without any (a dict each: 6 MB at
100,000 customers)."""


class Customers:
    """The customers of one file (its `defaults` merged), each read from its data once; with
    `own` (`build_state` with `release`), the model keeps copies of the data's strings (`Own`),
    none of the data's objects."""

    __slots__ = ("_default_tags", "_defaults", "_own", "_platforms", "_tag_maps")

    def __init__(self, defaults: dict[str, Any], tag_maps: TagMaps, own: Own | None) -> None:
        self._defaults: dict[str, Any] = own.value(defaults) if own is not None else defaults
        self._default_tags: dict[str, Any] | None = self._defaults.get("tags")
        self._tag_maps = tag_maps
        self._own = own
        self._platforms: dict[str, str | None] = {}

    def customer(self, raw: dict[str, Any], location: Location) -> Customer:
        defaults, own, get = self._defaults, self._own, raw.get
        uid, name = raw["uid"], raw["name"]
        description = get("description", defaults.get("description"))
        accounting = get("accounting", defaults.get("accounting"))
        protect = get("protect", defaults.get("protect"))
        company_id = get("id")
        listed = get("environments")
        overrides = get("overrides")
        config = get("expenseConfig")
        state = get("state", "present")
        if own is not None:  # copies of what the model keeps
            uid, name = _copy(uid), _copy(name)
            if description is not None:
                description = own.value(description)
            if listed is not None or overrides is not None or config is not None:
                listed, overrides, config = own.value([listed, overrides, config])
            if "state" in raw:
                state = own.value(state)
        # By position, in `Customer`'s order (a test holds it): a third faster than by name.
        return Customer(
            uid,
            name,
            description,
            self._tag_maps.share(_merged_tags(raw, self._default_tags), own),
            self._platform(accounting) if isinstance(accounting, str) else None,
            bool(get("expenses", defaults.get("expenses", False))),
            expense_config_of(config) if config is not None else None,
            company_id.lower() if company_id is not None else None,
            *_protection(protect),
            isinstance(accounting, dict),
            cast(CustomerState, state),
            location,
            frozenset(listed) if listed is not None else None,
            {env: _overridden(given, defaults) for env, given in overrides.items()}
            if overrides
            else NO_OVERRIDES,
        )

    def _platform(self, accounting: str) -> str | None:
        """The platform key `accounting` names (an alias resolved), once per distinct text."""
        if accounting not in self._platforms:
            self._platforms[accounting] = _platform_key(accounting)
        return self._platforms[accounting]


def _platform_key(accounting: Any) -> str | None:
    # `{keep: true}`, the only object the schema allows: the company's accounting stays as it
    # is (never unlinked, deleted or replaced); `accounting` is then None.
    platform = resolve_platform(accounting) if isinstance(accounting, str) else None
    return platform.key if platform is not None else None


def _protection(protect: Any) -> tuple[bool, bool]:
    """`protect` and `unprotect` from the file's `protect:` (`false`, not a missing line, lets a
    protect tag go)."""
    return bool(protect), protect is False


def _merged_tags(raw: dict[str, Any], default_tags: dict[str, Any] | None) -> dict[str, Any]:
    """`raw`'s tags over the defaults' (the file's own map when there is nothing to merge)."""
    own = raw.get("tags")
    return own if own and not default_tags else {**(default_tags or {}), **(own or {})}


def _overridden(raw: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The overridable fields one environment's overrides give, by their model names."""

    def pick(key: str, fallback: Any = None) -> Any:
        return raw[key] if key in raw else defaults.get(key, fallback)

    fields: dict[str, Any] = {}
    if "accounting" in raw:
        accounting = pick("accounting")
        fields["accounting"] = _platform_key(accounting)
        fields["keep_accounting"] = isinstance(accounting, dict)
    if "expenseConfig" in raw:
        config = raw.get("expenseConfig")
        fields["expense_config"] = expense_config_of(config) if config is not None else None
    if "tags" in raw:
        fields["tags"] = _merged_tags(raw, defaults.get("tags"))
    if "protect" in raw:
        fields["protect"], fields["unprotect"] = _protection(raw["protect"])
    if "state" in raw:
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
