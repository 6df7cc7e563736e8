"""A stand-in for the worker while a synchronous CertMate call (create, renew, reissue) waits: it
finishes the one queued job at the first poll (tests/e2e waits on a real worker instead)."""

from __future__ import annotations

from apps.certificates.models import Job, JobStatus
from tests.factories import version_add


class StandInWorker:
    def __init__(self, *, succeed: bool = True, error: str = "CA said: rateLimited"):
        self.succeed, self.error = succeed, error
        self.finished: list[Job] = []

    def sleep(self, _seconds):
        job = Job.objects.select_related("certificate").get(status=JobStatus.QUEUED)
        if self.succeed:
            version = version_add(job.certificate)
            Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, version=version)
        else:
            Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=self.error)
        self.finished.append(job)
