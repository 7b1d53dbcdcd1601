"""The pull-request comment: layout, size cap, and nothing a string can inject."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.escape import markdown
from reconcile.plans import Action, CustomerChange, Kind, Note, Plan, Refusal, Request
from reconcile.render.markdown import Droppable, Review, capped, render_plan_markdown
from tests.conftest import examples
from tests.render.golden import assert_golden
from tests.render.plans import HOSTILE, fleet_plan, sample_plan

HTML_EVIL = "<img src=x> `tick` a|b </details>\n```\n**bold** [l](u) $m$ \x1b]52;c;x\x07"
OUR_TAGS = re.compile(r"</?(details|summary)>")


def _fenced(md: str) -> tuple[list[str], list[str]]:
    """The lines inside ```diff fences, and those outside."""
    inside: list[str] = []
    outside: list[str] = []
    fenced = False
    for line in md.splitlines():
        if line in ("```diff", "```"):
            fenced = line == "```diff"
            continue
        (inside if fenced else outside).append(line)
    return inside, outside


def _live(lines: list[str]) -> str:
    """Outside the fences and the raw-HTML summaries (where Markdown is not read), what
    Markdown or HTML could act on once the escapes are removed."""
    markdown = [line for line in lines if not line.startswith("<details><summary>")]
    return re.sub(r"\\.|&[#\w]+;", "", "\n".join(markdown))


def _summaries(md: str) -> list[str]:
    """The text of each `<summary>`, raw HTML: it must hold no tag of its own."""
    return [OUR_TAGS.sub("", line) for line in md.splitlines() if line.startswith("<details>")]


def assert_same_layout(benign: str, hostile: str) -> None:
    assert len(hostile.splitlines()) == len(benign.splitlines())
    assert hostile.splitlines()[0] != "" and hostile.splitlines()[0] == benign.splitlines()[0]
    for tag in ("<details>", "</details>", "<summary>", "</summary>"):
        assert hostile.count(tag) == benign.count(tag), tag
    for fence in ("```diff", "```"):  # a fence opens or closes only as a whole line
        assert hostile.splitlines().count(fence) == benign.splitlines().count(fence)
    b_in, b_out = _fenced(benign)
    h_in, h_out = _fenced(hostile)
    assert len(h_in) == len(b_in) and len(h_out) == len(b_out)
    assert [line[:1] for line in h_in] == [line[:1] for line in b_in]  # diff signs unchanged
    for char in "<>`|*_[]$~":
        assert _live(h_out).count(char) == _live(b_out).count(char), char
    assert not any("<" in line or "`" in line for line in h_in)
    assert not any("<" in line or ">" in line for line in _summaries(hostile))
    assert not any(ord(c) < 0x20 and c != "\n" for c in hostile)


def test_sample_plan_matches_its_golden_file() -> None:
    assert_golden("plan.md", render_plan_markdown(sample_plan()))


def test_hostile_names_match_their_golden_file() -> None:
    md = render_plan_markdown(sample_plan(HTML_EVIL), link_urls=True)  # escaped too
    assert_golden("hostile.md", md)
    assert "<img" not in md and "<script" not in md


def test_refused_only_matches_its_golden_file() -> None:
    refusal = Refusal("cus-1", "Acme", "accounting connection Xero", "protect: true forbids it")
    blocked = Note("blocked", "cus-1", "Acme", "partner expense connection", "blocked by refusal")
    md = render_plan_markdown(Plan(owner="o", refused=(refusal,), notes=(blocked,)))
    assert_golden("refused.md", md)
    assert md.startswith("**No changes can be applied, but 1 refused: see below\\.**")


@pytest.mark.parametrize("evil", [*HOSTILE, HTML_EVIL])
def test_hostile_strings_keep_the_layout(evil: str) -> None:
    assert_same_layout(render_plan_markdown(sample_plan()), render_plan_markdown(sample_plan(evil)))


@settings(max_examples=examples(200), deadline=None)
@given(st.text(min_size=1))
def test_no_string_whatsoever_changes_the_layout(evil: str) -> None:
    assert_same_layout(render_plan_markdown(sample_plan()), render_plan_markdown(sample_plan(evil)))


def test_truncation_at_the_limit_matches_its_golden_file() -> None:
    plan = fleet_plan(30, awaiting=25)
    hint = "the saved plan, in this run's artifacts"
    full = render_plan_markdown(plan, full_plan_hint=hint, link_urls=True)
    md = render_plan_markdown(plan, full_plan_hint=hint, limit=4000, link_urls=True)
    assert len(full) > 4000 >= len(md)
    assert_golden("truncated.md", md)
    kept = md.count("<details>")
    assert 0 < kept < 30
    assert f"**{30 - kept} more customers with changes not shown" in md
    assert "the full plan is the saved plan, in this run&#x27;s artifacts" in md
    assert "#### Awaiting customer authorization (25)" in md  # the lists stay
    assert md.count("<details>") == md.count("</details>")


def test_a_fleet_plan_stays_under_the_github_limit_with_verdict_and_counts() -> None:
    md = render_plan_markdown(fleet_plan(2000, awaiting=300), full_plan_hint="the artifact")
    assert len(md) <= 65000
    assert md.startswith(
        "**Plan: 4000 to create \\(2000 companies, 2000 connections\\), 0 to update, "
        "0 to unlink, 0 to delete\\.**\n\n| Create | Update | Unlink | Delete | Awaiting |"
    )
    assert "| 4000 | 0 | 0 | 0 | 300 | 0 | 0 |" in md
    assert re.search(r"\*\*\d+ more customers with changes not shown", md)
    assert md.count("cus\\-w") == 20 and "... and 280 more, not shown" in md


# ---------------------------------------------------------------------- capped()


def _say(n: int) -> str:
    return f"{n} left out"


def test_capped_keeps_everything_that_fits() -> None:
    assert capped("head", Droppable(["a", "b"], _say), "tail", limit=100) == "head\na\nb\ntail"


def test_capped_drops_whole_blocks_from_the_last_droppable_first() -> None:
    first = Droppable(["1" * 20, "2" * 20], _say)
    last = Droppable(["x" * 20, "y" * 20], _say)
    assert len(capped("H", first, last, "T", limit=1000)) == 87
    out = capped("H", first, last, "T", limit=80)
    assert out == "\n".join(["H", "1" * 20, "2" * 20, "x" * 20, "1 left out", "T"])
    out = capped("H", first, last, "T", limit=50)
    assert out == "\n".join(["H", "1" * 20, "1 left out", "2 left out", "T"])


def test_capped_cuts_fixed_sections_only_as_a_last_resort() -> None:
    out = capped("\n".join(["line"] * 100), limit=200)
    assert len(out) <= 200
    assert out.endswith("**Cut here: this comment is limited to 200 characters.**\n")


@given(
    st.lists(st.text(max_size=40), max_size=3),
    st.lists(st.text(max_size=80), max_size=30),
    st.integers(min_value=60, max_value=2000),
)
def test_capped_never_exceeds_the_limit_and_keeps_a_prefix(
    fixed: list[str], blocks: list[str], limit: int
) -> None:
    out = capped(*fixed, Droppable(blocks, _say), limit=limit)
    assert len(out) <= limit
    whole = "\n".join([*fixed, *blocks])
    if len(whole) <= limit:
        assert out == whole
    elif len("\n".join(fixed)) + len(_say(len(blocks))) + 2 <= limit:
        assert out.startswith("\n".join(fixed))
        assert re.search(r"\d+ left out$", out)


# ---------------------------------------------------------------------- what can hurt comes first

ZWSP = "\u200b"


def _unlink(uid: str, cid: str, subject: str, conn: str) -> Action:
    return Action(
        Kind.UNLINK_CONNECTION,
        uid,
        cid,
        subject,
        "offboarding: state: absent",
        Request("PATCH", f"/companies/{cid}/connections/{conn}", {"status": "Unlinked"}),
        connection_id=conn,
        status="Linked",
    )


def _tag_edit(uid: str, cid: str) -> Action:
    return Action(
        Kind.UPDATE_COMPANY,
        uid,
        cid,
        "company",
        "differs from the file",
        Request("PUT", f"/companies/{cid}"),
        before={"name": uid, "tags": {"tier": "silver"}},
        after={"name": uid, "tags": {"tier": "gold"}},
    )


def risky_fleet(customers: int = 400) -> Plan:
    """A fleet-size plan whose riskiest customers come last in uid order: tag edits first,
    then offboardings (two Linked unlinks each), abandoned links and company deletes."""
    changes = []
    for i in range(customers):
        uid, cid = f"cus-{i:05d}", f"c{i:05d}"
        band = i * 8 // customers  # 0-4: tag edits, 5-6: offboard, 7: delete / abandoned link
        if band < 5:
            actions: tuple[Action, ...] = (_tag_edit(uid, cid),)
            verdict = "update"
        elif band < 7:
            actions = (
                _unlink(uid, cid, "accounting connection Xero (gbol)", f"x{i}"),
                _unlink(uid, cid, "partner expense connection", f"p{i}"),
            )
            verdict = "offboard"
        elif i % 2:
            actions = (
                Action(
                    Kind.DELETE_COMPANY,
                    uid,
                    cid,
                    "company",
                    "state: deleted",
                    Request("DELETE", f"/companies/{cid}"),
                    before={"name": f"Gone {i}", "tags": {}},
                ),
            )
            verdict = "delete"
        else:
            actions = (
                Action(
                    Kind.DELETE_CONNECTION,
                    uid,
                    cid,
                    "accounting connection QuickBooks Online (qhyg)",
                    "offboarding: not in the file",
                    Request("DELETE", f"/companies/{cid}/connections/q{i}"),
                    connection_id=f"q{i}",
                    status="PendingAuth",
                ),
            )
            verdict = "offboard"
        changes.append(CustomerChange(uid, f"Customer {i}", verdict, cid, actions))  # type: ignore[arg-type]
    return Plan(owner="o", changes=tuple(changes))


def _section(md: str, title: str) -> str:
    start = md.index(f"#### {title}")
    end = md.find("\n#### ", start + 1)
    return md[start : end if end != -1 else len(md)]


def test_the_destructive_section_comes_first_and_whole_at_fleet_size() -> None:
    plan = risky_fleet(400)
    md = render_plan_markdown(plan, full_plan_hint="the artifact reconcile-plan")
    assert_golden("fleet_destructive.md", md)
    assert len(md) <= 65000
    destructive = [a for a in plan.actions if a.kind.destructive]
    assert len(destructive) == 250  # 100 offboarded x 2 unlinks + 25 deletes + 25 links
    _head, rest = md.split("\n#### ", 1)
    assert rest.startswith(f":boom: Destructive ({len(destructive)})")  # straight after counts
    section = _section(md, ":boom: Destructive")
    assert "grouped by what they cut off." in section  # one line each would take over half
    assert (
        "**unlinks Linked Xero \\(gbol\\): the customer&#x27;s expenses stop syncing** (100)"
        in (section)
    )
    assert "**deletes the company: every connection" in section
    for action in destructive:
        assert f"**{markdown(action.uid)}**" in section, action.uid
    assert section.index("deletes the company") < section.index("unlinks Linked Xero")
    # The customer blocks gave way instead, the tag edits (least risky) first.
    assert "more customers with changes not shown, the least risky" in md
    kept = re.findall(r"<summary>(cus-\d+)", md)
    assert 150 < len(kept) < 400
    assert set(kept[:25]) == {f"cus-{i:05d}" for i in range(351, 400, 2)}  # deletes lead
    assert {f"cus-{i:05d}" for i in range(250, 400)} == set(kept[:150])  # every destroy first


@pytest.mark.parametrize(("customers", "named"), [(1600, True), (6400, False)])
def test_even_thousands_of_destroys_are_all_listed(customers: int, named: bool) -> None:
    plan = risky_fleet(customers)
    md = render_plan_markdown(plan)
    assert len(md) <= 65000 and "Cut here" not in md
    section = _section(md, ":boom: Destructive")
    assert ("(customers by uid)" not in section) is named
    for action in plan.actions:
        if action.kind.destructive:
            assert markdown(action.uid) in section, action.uid


def test_a_fleet_of_200_gets_one_destructive_line_per_action() -> None:
    plan = risky_fleet(200)
    md = render_plan_markdown(plan, full_plan_hint="the artifact reconcile-plan")
    assert_golden("fleet_destructive_lines.md", md)
    section = _section(md, ":boom: Destructive")
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(lines) == 125 == sum(1 for a in plan.actions if a.kind.destructive)
    assert sum("unlinks Linked Xero" in line for line in lines) == 50
    assert sum("deletes company" in line for line in lines) == 13
    assert not any(re.search(r"\bc\d{5}\b", line) for line in lines)  # no company id
    assert len(md) <= 65000


def test_a_few_destroys_get_one_line_each_with_what_it_cuts_off() -> None:
    section = _section(render_plan_markdown(sample_plan()), ":boom: Destructive")
    assert section.splitlines()[5].endswith(
        "· unlinks Linked Xero \\(gbol\\): the customer&#x27;s expenses stop syncing · platform "
        "changed to Sage Intacct"
    )


def test_truncation_drops_the_least_risky_blocks_first() -> None:
    plan = risky_fleet(80)
    md = render_plan_markdown(plan, limit=20000)
    assert len(md) <= 20000 < len(render_plan_markdown(plan))
    kept = re.findall(r"<summary>(cus-\d+)", md)
    dropped = {f"cus-{i:05d}" for i in range(80)} - set(kept)
    assert kept and dropped
    assert all(int(uid[4:]) < 50 for uid in dropped)  # only tag edits were left out
    assert len(dropped) + len(kept) == 80 and 30 <= len(dropped) <= 50
    assert md.count("<details>") == md.count("</details>")


def test_summaries_name_their_risk_and_updates_name_their_fields() -> None:
    md = render_plan_markdown(sample_plan())
    summaries = re.findall(r"<summary>(.*)</summary>", md)
    assert summaries[0].endswith(
        "offboarding: DELETES the company; deletes PendingAuth Oracle NetSuite (akxx)"
    )
    assert "will be changed: unlinks Linked Xero (gbol); changes name, description, tags" in md
    assert "changes)" not in md and "differs from the file" not in md
    assert "! company: name, description, tags crm, region, segment" in md
    assert "6f1c" not in md  # a company id is a Link URL while the company awaits authorization
    assert "! set expense config: bankAccount" in md


def test_link_urls_never_reach_the_comment() -> None:
    plan = fleet_plan(3, awaiting=5)
    for md in (render_plan_markdown(sample_plan()), render_plan_markdown(plan)):
        assert "link.codat.io" not in md and "https://" not in md
        assert "Awaiting customer authorization" in md


@pytest.mark.parametrize("name", ["@everyone", "Acme @org/team", "@\u200bz"])
def test_no_at_sign_can_start_a_mention(name: str) -> None:
    """Outside code fences (where GitHub and GitLab never look for mentions), every `@` is
    followed by a zero-width space."""
    _inside, outside = _fenced(render_plan_markdown(sample_plan(name)))
    text = "\n".join(outside)
    assert not re.search(f"@(?!{ZWSP})", text)
    assert "&#64;" not in text.replace("&amp;#64;", "")  # GitHub decodes &#64; before mentions
    assert text.count("@") >= 10


def test_the_comment_says_which_allowance_is_in_effect() -> None:
    none = render_plan_markdown(sample_plan(), review=Review(allowances=()))
    assert "**Allowances in effect: none.** `state: deleted` is refused" in none
    some = render_plan_markdown(
        sample_plan(), review=Review(allowances=("--allow-delete", "--max-destroy 40"))
    )
    section = some.split("**Allowances in effect:**", 1)[1]
    assert section.startswith("\n\n- \\-\\-allow\\-delete\n- \\-\\-max\\-destroy 40\n")
    assert some.index(":boom: Destructive") < some.index("Allowances in effect")
    assert "Allowances" not in render_plan_markdown(sample_plan())


def test_refusals_are_marked_new_or_pre_existing_against_a_base() -> None:
    old = Refusal("cus-1", "Acme", "company", "protect: true forbids delete")
    new = Refusal("cus-2", "Beta", "bank account", "bankAccount is not a mapping option")
    plan = Plan(owner="o", refused=(old, new))
    md = render_plan_markdown(plan, review=Review(changed=frozenset({"cus-2"})))
    assert_golden("refused_base.md", md)
    assert "1 about customers this pull request changes (these block it); 1 predate it" in md
    assert "- pre-existing · **cus\\-1**" in md
    assert "- **new: blocks this pull request** · **cus\\-2**" in md


def test_link_urls_only_when_asked() -> None:
    """A pull-request comment never carries a Link URL (anyone who opens one can authorize
    that company) unless the caller asks."""
    assert "link\\.codat" not in render_plan_markdown(sample_plan())
    asked = render_plan_markdown(sample_plan(), link_urls=True)
    assert "https://link\\.codat\\.io/c3" in asked


# ---------------------------------------------------------------------- issue 25: dangerous first


def test_a_pull_request_lists_its_own_refusals_first_and_condenses_older_ones() -> None:
    """60 older refusals once took 25 KB of the comment and came before the 2 the pull request
    introduced: now its own come first, in full, and the older ones are a count and a pointer."""
    old = tuple(
        Refusal(f"old-{i:02d}", f"Old {i}", "offboarding", "left the file: " + "x" * 300)
        for i in range(60)
    )
    new = (Refusal("cus-new", "New Co", "offboarding", "cus-new left the file: protected"),)
    plan = Plan(owner="o", refused=old + new)
    md = render_plan_markdown(plan, review=Review(changed=frozenset({"cus-new"})))
    section = _section(md, ":no_entry: Refused")
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert items[0].startswith("- **new: blocks this pull request** · **cus\\-new**")
    assert "left the file: protected" in items[0]
    assert sum(line.startswith("- pre-existing") for line in items) == 5
    assert "... and 55 more that predate this pull request, not shown" in section
    assert "x" * 300 not in section  # an older refusal's reason is not repeated
    # The control: without a base, every refusal is listed in full.
    assert md.count("x" * 300) == 0
    full = render_plan_markdown(plan)
    assert full.count("x" * 300) == 60


def test_a_plan_refused_as_a_whole_says_so_in_its_verdict() -> None:
    plan = replace(risky_fleet(40), unsafe="more than 10 Linked-connection unlinks (10)")
    md = render_plan_markdown(plan)
    assert "Refused as a whole, nothing of it applies: more than 10" in md.splitlines()[0]
    assert "Refused as a whole" not in render_plan_markdown(risky_fleet(40))
