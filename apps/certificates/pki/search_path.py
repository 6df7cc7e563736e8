"""django-tenants sends ``SET search_path`` before every statement (a connection may have been switched
to another tenant since), which is about half of the round trips of issuing a certificate. A batch job
works in one schema on one connection from start to end, so it sets the path once, in autocommit (where
no later rollback can undo it), and skips the repeats while nothing else is asked for."""

from __future__ import annotations

import contextlib

from django.db import DEFAULT_DB_ALIAS, connections


@contextlib.contextmanager
def search_path_pinned():
    """Within the block, no ``SET search_path`` is repeated for the current schema on the current
    database session. The first statement for another schema or on another session (a reconnect) ends
    the pin for the rest of the block: from then on every cursor sets the path again, as usual. Inside
    a transaction (a test's, a request's) the pin is not taken: a rollback could undo the path."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if wrapper.in_atomic_block or "_handle_search_path" in vars(wrapper):
        yield
        return
    schema = wrapper.schema_name
    with wrapper.cursor():  # sets the path now, outside any transaction
        session = wrapper.connection
    usual = wrapper._handle_search_path

    def handle(cursor=None):
        if wrapper.schema_name == schema and wrapper.connection is session:
            return
        vars(wrapper).pop("_handle_search_path", None)  # unpinned for good: the usual SET per cursor
        usual(cursor)

    wrapper._handle_search_path = handle
    try:
        yield
    finally:
        vars(wrapper).pop("_handle_search_path", None)
