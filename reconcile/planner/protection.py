"""Whether a customer's company may lose anything (an unlink or a delete), and why not:
`protect: true` in the file, the `reconcile.protect=true` tag on the company, or the first plan
of an adoption."""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.model import PROTECT_TAG, PROTECT_VALUE, Company, Customer


@dataclass(frozen=True)
class Protection:
    """Whether a customer's company may lose anything, and why not."""

    active: bool
    reason: str = ""

    @staticmethod
    def of(customer: Customer, company: Company | None) -> Protection:
        if adopting(customer, company):
            return Protection(
                True,
                "first plan of an adoption: nothing is unlinked or deleted. Once the adoption "
                "is applied, a later plan does it; to keep the connection instead, write "
                "accounting: {keep: true}",
            )
        if customer.protect:
            return Protection(True, "protect: true forbids unlink and delete")
        if company is not None and company.protected:
            if customer.unprotect:
                return Protection(
                    True,
                    f"the company is still tagged {PROTECT_TAG}={PROTECT_VALUE}: this plan "
                    "removes the tag; apply it, then plan again to unlink or delete",
                )
            return Protection(
                True,
                f"the company is tagged {PROTECT_TAG}={PROTECT_VALUE}; set protect: false for "
                "this customer to remove the protection (in a first apply)",
            )
        return UNPROTECTED


UNPROTECTED = Protection(False)


def adopting(customer: Customer, company: Company | None) -> bool:
    """A customer's first plan after `id:` (or `export --adopt`): the company has no owner tag."""
    return customer.id is not None and company is not None and company.owner is None
