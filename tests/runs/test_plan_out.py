"""`plan --out` records what the plan run read (issue 23): it makes no request beyond what
`plan` makes. Counted on the served sandbox's request log, for a plan that acts on a company
(a rename and an expense config, so configs and mapping options are read)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import quote

from tests.plans.file.saved_support import customers_file, ok, read_plan, reconcile
from tests.plans.file.test_saved_apply import Served, applied_example, served

__all__ = ["served"]  # the module-scoped server of test_saved_apply, shared

GLOBEX_CONFIG = """    accounting: xero
    expenseConfig:
      bankAccount: "89"
      supplier: "124"
      customer: "140"
"""


def changed_file(tmp_path: Path, owner: str, environment: str | None = None) -> Path:
    """The example with Globex renamed and given an expense config (its Xero is Linked), and
    optionally one environment that names the sandbox's account."""
    text = customers_file(tmp_path, owner).read_text()
    text = text.replace(
        "name: Globex Ltd\n    tags: {region: us}\n    accounting: xero\n",
        ("name: Globex Limited\n    tags: {region: us}\n" + GLOBEX_CONFIG),
    )
    assert "Globex Limited" in text and text.count("expenseConfig:") == 2
    if environment is not None:
        text = text.replace("\ncustomers:\n", f"\n{environment}\ncustomers:\n")
    return customers_file(tmp_path, owner, text)


def requests(served: Served, *args: str, url: str | None) -> Counter[tuple[str, str, str]]:
    """The requests one `reconcile ARGS` sent, as (method, path, query) with counts."""
    return sent_by(served, *args, url=url)[0]


def sent_by(
    served: Served, *args: str, url: str | None
) -> tuple[Counter[tuple[str, str, str]], str]:
    """The requests one `reconcile ARGS` sent (as `requests` counts them) and its stderr."""
    mark = served.mark()
    result = ok(reconcile(*args, url=url), 0, 2)
    sent = Counter((e["method"], e["path"], e["query"]) for e in served.since(mark))
    sent = Counter({k: n for k, n in sent.items() if not k[1].startswith("/companies/mark-")})
    assert sent, result.stderr
    return sent, result.stderr


def account_of(served: Served) -> str:
    with served.http() as client:
        answer = client.get("/profile")
        answer.raise_for_status()
        return str(answer.json()["name"])


def test_plan_out_reads_nothing_beyond_the_plan(tmp_path: Path, served: Served) -> None:
    owner = applied_example(tmp_path, served, authorize_globex=True)
    environment = (
        "environments:\n"
        f'  stage: {{account: "{account_of(served)}", api_key_env: CODAT_API_KEY,'
        f' base_url: "{served.url}"}}\n'
    )
    path = changed_file(tmp_path, owner, environment)
    planfile = tmp_path / "plan.json"
    planned = requests(served, "plan", str(path), "--env", "stage", url=None)
    saved = requests(served, "plan", str(path), "--env", "stage", "--out", str(planfile), url=None)
    doc = read_plan(planfile)
    kinds = {a["kind"] for c in doc["changes"] for a in c["actions"]}
    assert {"update_company", "set_expense_config"} <= kinds, kinds
    assert any(p.endswith("/sync/expenses/config") for _, p, _ in planned)  # configs read
    assert saved == planned


def test_without_an_environment_plan_and_plan_out_cost_the_same(
    tmp_path: Path, served: Served
) -> None:
    """`plan` reads the key's account (`GET /profile`, beside the listing) and shows it, so
    `plan --out` records it from that read: the same requests, one for one."""
    owner = applied_example(tmp_path, served, authorize_globex=True)
    path = changed_file(tmp_path, owner)
    planfile = tmp_path / "plan.json"
    planned, said = sent_by(served, "plan", str(path), url=served.url)
    saved, recorded = sent_by(served, "plan", str(path), "--out", str(planfile), url=served.url)
    assert saved == planned
    # The control: the count is the one expected, the account once among the reads.
    globex = f"/companies/{served.company_of(owner, '0002')['id']}"
    listing = f"page=1&pageSize=5000&tags={quote(f'reconcile.owner={owner}')}"
    assert planned == Counter(
        {
            ("GET", "/profile", ""): 1,
            ("GET", "/companies", listing): 1,
            ("GET", f"{globex}/sync/expenses/config", ""): 1,
            ("GET", f"{globex}/sync/expenses/mappingOptions", ""): 1,
            ("GET", f"{globex}/data/suppliers/124", ""): 1,
            ("GET", f"{globex}/data/customers/140", ""): 1,
        }
    )
    account = f', account "{account_of(served)}"'
    assert f"(6 requests){account}" in said and f"(6 requests){account}" in recorded, said
    assert "(no request beyond the plan's)" in recorded, recorded
    assert read_plan(planfile)["account"] == account_of(served)
