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
