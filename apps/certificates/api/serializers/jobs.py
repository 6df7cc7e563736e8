"""Jobs as the API shows them: CertMate's {job_id, operation, domain, status, error} and more."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from apps.accounts.models import Role
from apps.certificates.api.serializers.certificates import UtcDateTimeField
from apps.certificates.models import JobOperation, JobStatus
from certmate.api.fields import IntegerField
from certmate.api.permissions import effective_role


class JobSerializer(serializers.Serializer):
    job_id = IntegerField(source="pk", help_text="The job's id: poll GET /api/certificates/jobs/{job_id}.")
    operation = serializers.ChoiceField(choices=JobOperation.choices, help_text="issue (first order), renew or revoke.")
    domain = serializers.CharField(source="certificate.identifier", help_text="The certificate's domain.")
    status = serializers.ChoiceField(choices=JobStatus.choices, help_text="queued, running, then succeeded or failed.")
    error = serializers.CharField(
        help_text="Why it failed (or why the last attempt failed while it waits to retry); empty otherwise."
    )
    progress = serializers.CharField(
        help_text="What a queued job is waiting for (a free slot of the tenant's, the CA's order window); "
        "empty otherwise."
    )
    status_url = serializers.SerializerMethodField(help_text="Where to poll the job.")
    certificate_id = IntegerField(help_text="The certificate's row id.")
    forced = serializers.BooleanField(help_text="A renewal asked for before it was due.")
    attempts = IntegerField(help_text="How many times a worker has started it.")
    version = IntegerField(
        source="version.number",
        allow_null=True,
        help_text="Number of the version it stored, once succeeded; for a revocation, the version it revokes.",
    )
    revocation_reason = serializers.CharField(help_text="A revocation's reason (RFC 5280); empty otherwise.")
    created_at = UtcDateTimeField(help_text="When it was asked for.")
    started_at = UtcDateTimeField(allow_null=True, help_text="When a worker last started it.")
    finished_at = UtcDateTimeField(allow_null=True, help_text="When it succeeded or failed for good.")

    def get_status_url(self, job) -> str:
        return reverse("certificate-job-detail", kwargs={"job_id": job.pk})


class JobDetailSerializer(JobSerializer):
    output = serializers.SerializerMethodField(
        help_text="certbot's output of the last attempt, cleaned (secrets redacted, what a plugin quoted from a "
        "file withheld, bounded); null unless you are an admin."
    )

    def get_output(self, job) -> str | None:
        # Plugin output is untrusted text: only the tenant's admins, who set the accounts up, read it.
        role = effective_role(self.context["request"])
        return job.output if role is Role.ADMIN else None


class JobAcceptedSerializer(JobSerializer):
    """A 202: the job that will do it (an open one, if the certificate already had one)."""

    message = serializers.SerializerMethodField(help_text="What was queued, in a sentence.")

    def get_message(self, job) -> str:
        return f"{job.operation} of {job.certificate.identifier} is {job.status}"
