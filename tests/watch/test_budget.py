"""The request budget's arithmetic and the sweep's pacing, pure (the served tests are in
test_resync_reads.py and test_request_budget.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconcile.watch.budget import Budget, BudgetSetting, client_limit
from reconcile.watch.sweep import ConfigSweep


@pytest.mark.parametrize(("active", "limit"), [(0, 1000), (10, 1000), (11, 1100), (8000, 800_000)])
def test_codat_s_client_limit_is_the_greater_of_1000_and_100_per_active_company(
    active: int, limit: int
) -> None:
    assert client_limit(active) == limit


def test_the_budget_is_a_share_of_the_limit_or_a_number() -> None:
    assert BudgetSetting.parse("10%") == BudgetSetting(share=0.10)
    assert BudgetSetting.parse("20,000") == BudgetSetting(share=None, requests=20_000)
    for bad in ("0%", "101%", "-5", "0", "ten"):
        with pytest.raises(ValueError, match="client limit"):
            BudgetSetting.parse(bad)
    sent = [0]
    budget = Budget(BudgetSetting(), lambda: sent[0])
    budget.observe(8000)
    assert (budget.client_limit, budget.budget) == (800_000, 80_000)


def test_the_allowance_keeps_the_rest_of_the_day_for_the_listing() -> None:
    sent = [0]
    now = [datetime(2026, 12, 1, 23, 0, tzinfo=UTC)]
    budget = Budget(BudgetSetting(share=None, requests=100), lambda: sent[0], lambda: now[0])
    sent[0] = 40
    budget.sample()
    # 6 resyncs left today (10 minutes apart), 2 requests each: (100 - 40 - 12) / 6 = 8.
    assert budget.allowance(600, 2) == pytest.approx(8.0)
    sent[0] = 100
    budget.sample()
    assert budget.allowance(600, 2) == 0.0
    now[0] = datetime(2026, 12, 2, 0, 0, 1, tzinfo=UTC)
    assert budget.spent_today == 0  # a new UTC day
    sent[0] = 103
    budget.sample()
    assert budget.spent_today == 3


def test_the_sweep_paces_irregular_resyncs_and_new_customers_join_the_round() -> None:
    ticks = [0.0]
    sweep = ConfigSweep(1000.0, lambda: ticks[0])
    due = [f"c{i:02d}" for i in range(10)]
    sweep.read_all(due)
    seen: list[str] = []
    sizes = []
    for step in (100.0, 250.0, 50.0, 300.0, 300.0):  # 1,000 seconds in all
        ticks[0] += step
        taken = sweep.take(due, (), None)
        assert not taken.slowed
        sizes.append(len(taken.ids))
        seen += taken.ids
        sweep.read(taken.ids)
    assert sizes == [1, 2, 1, 3, 3]  # the period's share; what a fraction leaves carries on
    assert sorted(seen) == due  # each once in the period
    due.append("c99")  # a customer configured since: in the next round
    ticks[0] += 1000.0
    joined = sweep.take(due, (), None)
    assert joined.ids == ("c99",)  # the round it joined is finished first
    sweep.read(joined.ids)
    # Past the budget: less than owed, never less than one, and the debt is forgotten.
    ticks[0] += 500.0
    slowed = sweep.take(due, (), 0.0)
    assert len(slowed.ids) == 1 and slowed.slowed and slowed.owed == 5
    ticks[0] += 100.0
    assert len(sweep.take(due, (), None).ids) == 1  # no catch-up burst
