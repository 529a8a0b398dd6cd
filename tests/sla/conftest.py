"""SLA test wiring: a real SMTP server that Django's default mailer sends to."""

import pytest

from tests.smtp import smtp_mailers, smtp_server  # noqa: F401 (a fixture)

BASE_URL = "https://fixflow.example.com"


@pytest.fixture
def smtp(settings, smtp_server):  # noqa: F811
    """Mail goes over SMTP to ``smtp_server`` (not Django's in-memory outbox); links use ``BASE_URL``."""
    settings.MAILERS = smtp_mailers(smtp_server.host, smtp_server.port)
    settings.DEFAULT_FROM_EMAIL = "Fixflow <fixflow@example.com>"
    settings.BASE_URL = BASE_URL
    return smtp_server
