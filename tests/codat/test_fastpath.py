"""The fast path's builders make the very objects the model's classes make."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from reconcile.codat.fastpath import (
    COMPANY_FIELDS,
    CONNECTION_FIELDS,
    new_company,
    new_connection,
)
from reconcile.model import Company, Connection, ConnectionError_

texts = st.text(max_size=4)
optional = st.none() | texts
errors = st.lists(st.builds(ConnectionError_, optional, optional, optional, optional, optional))
connections = st.tuples(
    texts, texts, texts, texts, texts, texts, optional, errors.map(tuple)
)  # fmt: skip


def test_the_builders_set_every_field_in_order() -> None:
    """A field added to a class must be added to its builder (an unset slot raises)."""
    assert tuple(f.name for f in fields(Company)) == COMPANY_FIELDS
    assert tuple(f.name for f in fields(Connection)) == CONNECTION_FIELDS


@given(values=connections)
def test_new_connection_is_the_connection(values: tuple[Any, ...]) -> None:
    built = new_connection(*values)
    made = Connection(*values)
    assert type(built) is Connection
    assert built == made and hash(built) == hash(made) and repr(built) == repr(made)


@given(
    values=st.tuples(
        texts, texts, optional, st.dictionaries(texts, texts), st.lists(connections), optional
    )
)
def test_new_company_is_the_company(values: tuple[Any, ...]) -> None:
    company_id, name, description, tags, conns, created = values
    made_conns = tuple(Connection(*c) for c in conns)
    built = new_company(company_id, name, description, tags, made_conns, created)
    made = Company(company_id, name, description, tags, made_conns, created)
    assert type(built) is Company and built == made and repr(built) == repr(made)
