"""The pull-request comment: layout, size cap, and nothing a string can inject."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.plan import Note, Plan, Refusal
from reconcile.render.markdown import Droppable, capped, render_plan_markdown
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


@settings(max_examples=200, deadline=None)
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


def test_link_urls_only_when_asked() -> None:
    """A pull-request comment never carries a Link URL (anyone who opens one can authorize
    that company) unless the caller asks."""
    assert "link\\.codat" not in render_plan_markdown(sample_plan())
    asked = render_plan_markdown(sample_plan(), link_urls=True)
    assert "https://link\\.codat\\.io/c3" in asked
