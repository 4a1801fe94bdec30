"""Outages for the tests: a PostgreSQL database that goes away and comes back."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

DATABASES = itertools.count()


@pytest.fixture
def gone_database(postgres_cluster: Any) -> Iterator[tuple[str, Callable[[bool], None]]]:
    """A database of its own in the session's cluster, and a switch that makes it go
    away (connections refused, the open ones terminated) and come back."""
    import psycopg

    name = f"outage_{os.getpid()}_{next(DATABASES)}"
    admin = psycopg.connect(postgres_cluster.url(), autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def switch(up: bool) -> None:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(up).lower()}')
        if not up:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )

    try:
        yield postgres_cluster.url(name), switch
    finally:
        switch(False)
        admin.execute(f'DROP DATABASE "{name}"')
        admin.close()
