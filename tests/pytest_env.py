"""Loaded with ``-p tests.pytest_env`` before Django is configured: the test environment.

Tests talk plain HTTP to the test client and the live server, so the HTTPS redirect and secure
cookies of production are off; the data directory (secret key, media) is a throw-away one.
"""

import os
import tempfile

os.environ.setdefault("FIXFLOW_HTTPS", "0")
# pytest-django creates and drops the test database; a connection pool would hold connections to it.
os.environ.setdefault("FIXFLOW_DB_POOL", "0")
os.environ.setdefault("FIXFLOW_DATA_DIR", os.path.join(tempfile.gettempdir(), "fixflow-tests"))
# On SQLite the test database is a file (one per test process), not Django's shared in-memory database: the
# live servers of the browser tests then give each of their threads a connection of its own, as in
# production. With the in-memory database every thread shares the test's single connection, and two
# requests' transactions (a page, the live events poll, the app's sync) interleave on it.
os.environ.setdefault(
    "FIXFLOW_TEST_SQLITE_NAME", os.path.join(tempfile.mkdtemp(prefix="fixflow-testdb-"), "test.sqlite3")
)
