"""A worker that cannot run certbot as CERTMATE_CERTBOT_USER does not start, and says why."""

from __future__ import annotations

import pytest

from tests.worker import Worker

pytestmark = pytest.mark.tools


def test_a_worker_refuses_to_start_with_a_certbot_user_it_cannot_be(django_db_setup, tmp_path):
    worker = Worker(tmp_path / "worker.log", concurrency=1, extra_env={"CERTMATE_CERTBOT_USER": "certmate-no-such"})
    with pytest.raises(pytest.fail.Exception):
        worker.start()
    assert "CERTMATE_CERTBOT_USER='certmate-no-such': no such user on this machine" in worker.log_text()
