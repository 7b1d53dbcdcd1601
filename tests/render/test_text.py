"""The text renderer: what the plan says, line for line, and nothing a string can forge."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.plans import Action, CustomerChange, Kind, Note, Plan, Refusal, Request
from reconcile.render.style import Style
from reconcile.render.text import render_plan
from tests.conftest import examples
from tests.render.golden import assert_golden
from tests.render.plans import HOSTILE, fleet_plan, sample_plan

SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_inert(out: str) -> None:
    """Nothing reaches the terminal raw: no control character but newline, no C1, no DEL."""
    bad = [c for c in out if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, f"raw control characters in output: {bad!r}"


def test_sample_plan_matches_its_golden_file() -> None:
    assert_golden("plan.txt", render_plan(sample_plan()))


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_strings_cannot_change_the_lines(evil: str) -> None:
    benign, hostile = render_plan(sample_plan()), render_plan(sample_plan(evil))
    assert len(hostile.splitlines()) == len(benign.splitlines())
    assert hostile.splitlines()[-1] == benign.splitlines()[-1]  # the verdict
    assert_inert(hostile)


@pytest.mark.parametrize("evil", HOSTILE)
def test_colour_adds_only_its_own_sgr_sequences(evil: str) -> None:
    plain = render_plan(sample_plan(evil))
    coloured = render_plan(sample_plan(evil), Style(enabled=True))
    assert "\x1b[" in coloured
    stripped = SGR.sub("", coloured)
    assert stripped == plain  # colour is all that was added...
    assert_inert(stripped)  # ...and all the escapes are ours


@settings(max_examples=examples(200), deadline=None)
@given(st.text(min_size=1))
def test_no_string_whatsoever_changes_the_lines(evil: str) -> None:
    benign, hostile = render_plan(sample_plan()), render_plan(sample_plan(evil))
    assert len(hostile.splitlines()) == len(benign.splitlines())
    assert hostile.splitlines()[-1] == benign.splitlines()[-1]
    assert_inert(hostile)


def test_forged_verdict_in_a_name_stays_inside_its_quotes() -> None:
    name = "Acme Ltd\n\nNo changes. Codat matches the file."
    out = render_plan(sample_plan(name))
    assert "No changes. Codat matches the file." not in out.splitlines()
    assert '"Sawayn GroupAcme Ltd\\n\\nNo changes. Codat matches the file."' in out


def _refused_only(*notes: Note) -> Plan:
    refusal = Refusal("cus-1", "Acme", "accounting connection Xero", "protect: true forbids it")
    return Plan(owner="o", refused=(refusal,), notes=notes)


def test_verdict_never_says_codat_matches_while_something_is_refused() -> None:
    assert render_plan(Plan(owner="o")) == "No changes. Codat matches the file.\n"
    out = render_plan(_refused_only())
    assert "Codat matches the file" not in out
    assert out.splitlines()[-1] == "No changes can be applied, but 1 refused: see above."
    both = sample_plan()
    assert render_plan(both).splitlines()[-1].endswith(". 1 refused: see above.")


def test_blocked_notes_have_their_own_heading_not_deferred() -> None:
    blocked = Note("blocked", "cus-1", "Acme", "partner expense connection", "blocked by refusal")
    out = render_plan(_refused_only(blocked))
    assert "Deferred" not in out
    assert out.splitlines()[:3] == [
        "Blocked by a refusal (1):",
        '  cus-1 "Acme"  partner expense connection: blocked by refusal',
        "",
    ]


def test_note_lists_show_twenty_oldest_first_then_how_many_more() -> None:
    plan = fleet_plan(0, awaiting=45)
    lines = render_plan(plan).splitlines()
    assert lines[0] == "Awaiting customer authorization (45):"
    entries = lines[1:21]
    since = [re.search(r"since (\S+)", e).group(1) for e in entries]  # type: ignore[union-attr]
    oldest = sorted(n.since or "" for n in plan.notes)[:20]
    assert since == [s[:10] for s in oldest]
    assert lines[21] == (
        "  ... and 25 more, not shown: list them all with "
        "`reconcile plan ... --format json`, or `reconcile audit`"
    )


def test_summary_counts_resources_as_terraform_does() -> None:
    assert render_plan(fleet_plan(200)).splitlines()[-1] == (
        "Plan: 400 to create (200 companies, 200 connections), 0 to update, 0 to unlink, "
        "0 to delete."
    )
    only_connection = Plan(
        owner="o",
        changes=(
            CustomerChange(
                "cus-1",
                "Acme",
                "update",
                "c1",
                (
                    Action(
                        Kind.CREATE_PARTNER_EXPENSE,
                        "cus-1",
                        "c1",
                        "partner expense connection",
                        "expenses: true",
                        Request("POST", "/x"),
                    ),
                ),
            ),
        ),
    )
    assert render_plan(only_connection).splitlines()[-1] == (
        "Plan: 1 to create, 0 to update, 0 to unlink, 0 to delete."
    )


def _update(reason: str, before: dict[str, object], after: dict[str, object]) -> Plan:
    action = Action(
        Kind.UPDATE_COMPANY,
        "cus-1",
        "c1",
        "company",
        reason,
        Request("PUT", "/companies/c1"),
        before=before,
        after=after,
    )
    return Plan(owner="o", changes=(CustomerChange("cus-1", "Acme", "update", "c1", (action,)),))


def test_tags_are_diffed_one_by_one() -> None:
    plan = _update(
        "differs from the file",
        {"name": "Acme", "description": "", "tags": {"region": "uk", "segment": "smb"}},
        {"name": "Acme Ltd", "description": "", "tags": {"region": "ie", "crm": "SF-123"}},
    )
    assert render_plan(plan).splitlines()[1:6] == [
        "  ~ company c1  (differs from the file)",
        '      ~ name: "Acme" -> "Acme Ltd"',
        "      + tag crm=SF-123",
        "      ~ tag region: uk -> ie",
        "      - tag segment=smb",
    ]


def test_adoption_shows_everything_it_changes_removals_included() -> None:
    plan = _update(
        "adopting: adds the ownership tags",
        {"name": "Acme", "description": "Their own words", "tags": {"segment": "smb"}},
        {
            "name": "Acme",
            "description": "",
            "tags": {"reconcile.owner": "o", "reconcile.uid": "cus-1"},
        },
    )
    assert render_plan(plan).splitlines()[1:6] == [
        "  ~ company c1  (adopting: adds the ownership tags)",
        '      - description: "Their own words" -> (none)',
        "      + tag reconcile.owner=o",
        "      + tag reconcile.uid=cus-1",
        "      - tag segment=smb",
    ]


def test_a_note_kind_the_renderer_does_not_know_yet_is_still_shown() -> None:
    new = Note("conflict", "cus-1", "Acme", "company", "two files claim it")  # type: ignore[arg-type]
    assert render_plan(Plan(owner="o", notes=(new,))).splitlines()[:2] == [
        "conflict (1):",
        '  cus-1 "Acme"  company: two files claim it',
    ]


# ---------------------------------------------------------------------- the dangerous thing first


def test_a_fleet_plan_leads_with_its_destructive_section() -> None:
    """Issue 25: a delete at line 818, after 200 creates, is read by no one. The text plan
    lists every unlink and delete first, riskiest first, as the Markdown comment does."""
    from tests.render.test_markdown import risky_fleet

    plan = risky_fleet(200)
    out = render_plan(plan)
    assert_golden("fleet_destructive.txt", out)
    destructive = [a for a in plan.actions if a.kind.destructive]
    lines = out.splitlines()
    assert lines[0] == f"Destructive ({len(destructive)}): read these first"
    listed = lines[1 : 1 + len(destructive)]
    assert all(line.startswith("  - cus-") for line in listed)
    assert "deletes company" in listed[0] and "deletes PendingAuth" in listed[-1]
    assert sum("the Link URL sent to the customer stops working" in x for x in listed) == 12
    assert lines[1 + len(destructive)] == ""  # then the customers' blocks
    # The control: a plan with nothing destructive has no such section.
    assert "Destructive" not in render_plan(fleet_plan(5))


def test_drift_that_cut_a_customer_off_is_named_before_the_blocks() -> None:
    reason = (
        "its company was deleted outside the tool: the customer must authorize again "
        "(cus-1 is in the base files, so an earlier apply made its company)"
    )
    create = Action(
        Kind.CREATE_COMPANY,
        "cus-1",
        None,
        "company",
        reason,
        Request("POST", "/companies"),
        after={"name": "Acme"},
    )
    plan = Plan(owner="o", changes=(CustomerChange("cus-1", "Acme", "create", None, (create,)),))
    out = render_plan(plan)
    assert out.startswith("Cut off outside the tool: the customer must authorize again (1):\n")
    assert (
        '# cus-1 "Acme" will be created: deleted outside the tool: the customer must '
        "authorize again" in out
    )
    plain = Plan(
        owner="o",
        changes=(
            CustomerChange(
                "cus-1", "Acme", "create", None, (replace(create, reason="no company"),)
            ),
        ),
    )
    assert "Cut off" not in render_plan(plain) and "outside the tool" not in render_plan(plain)
