from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.management.commands._errors import command_error
from apps.accounts.management.commands._tenant import in_tenant
from apps.certificates.acme.resolve import ca_account_resolve, dns_account_resolve
from apps.certificates.models import Certificate, Job, JobStatus, KeyType
from apps.certificates.revocation_reasons import REVOCATION_REASONS
from apps.certificates.selectors import OPEN_JOB_STATUSES, job_wait
from apps.certificates.services import certificate_request
from apps.certificates.services.requests import certificate_renew
from apps.certificates.services.revocation import certificate_revoke
from certmate.actors import Actor

COMMAND = Actor.command(name="manage.py certificate")


class Command(BaseCommand):
    help = "Issue, renew, revoke and list a tenant's certificates."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="order a server certificate from the tenant's ACME CA")
        issue.add_argument("--tenant", required=True)
        issue.add_argument("domain")
        issue.add_argument("--san", action="append", default=[], help="another name on the certificate (repeatable)")
        issue.add_argument("--ca-account", help="CA account name (default: the tenant's default)")
        issue.add_argument("--dns-account", help="DNS account name, or provider:name (default: the default)")
        issue.add_argument("--key-type", choices=KeyType.values)
        issue.add_argument("--wait", action="store_true", help="wait for a worker to finish the job")
        issue.add_argument("--timeout", type=int, default=1800, help="seconds --wait waits (default 1800)")
        renew = sub.add_parser("renew", help="renew one certificate now (if due, or with --force)")
        renew.add_argument("--tenant", required=True)
        renew.add_argument("domain")
        renew.add_argument("--force", action="store_true", help="renew even if not due")
        renew.add_argument("--wait", action="store_true")
        renew.add_argument("--timeout", type=int, default=1800)
        revoke = sub.add_parser("revoke", help="revoke a certificate's current version (or --version) at its CA")
        revoke.add_argument("--tenant", required=True)
        revoke.add_argument("domain")
        revoke.add_argument("--reason", choices=REVOCATION_REASONS, default="unspecified")
        revoke.add_argument("--version", type=int, help="an earlier version's number (default: the current one)")
        revoke.add_argument("--timeout", type=int, default=600, help="seconds to wait for a worker (default 600)")
        listing = sub.add_parser("list", help="list the tenant's certificates")
        listing.add_argument("--tenant", required=True)

    def handle(self, *args, action, tenant, **options):
        with in_tenant(tenant):
            try:
                getattr(self, f"_{action}")(**options)
            except ValidationError as exc:
                raise command_error(exc) from None

    def _issue(self, *, domain, san, ca_account, dns_account, key_type, wait, timeout, **_):
        job = certificate_request(
            identifier=domain,
            san_domains=san,
            key_type=key_type,
            ca_account=ca_account_resolve(account=ca_account),
            dns_account=dns_account_resolve(account=dns_account),
            actor=COMMAND,
        )
        self._report(job, wait, timeout)

    def _renew(self, *, domain, force, wait, timeout, **_):
        job, _ = certificate_renew(certificate=_certificate(domain), force=force, actor=COMMAND)
        self._report(job, wait, timeout)

    def _revoke(self, *, domain, reason, version, timeout, **_):
        job = certificate_revoke(certificate=_certificate(domain), reason=reason, version_number=version, actor=COMMAND)
        self.stdout.write(f"job {job.pk}: revoke {job.certificate.identifier} v{job.version.number} {job.status}")
        revoked = self._wait(job, timeout).version
        self.stdout.write(
            f"{revoked.certificate.identifier} v{revoked.number} (serial {revoked.serial}) revoked: "
            f"{revoked.revocation_reason}, {revoked.revoked_at:%Y-%m-%d %H:%M} UTC"
        )

    def _report(self, job, wait, timeout):
        self.stdout.write(f"job {job.pk}: {job.operation} {job.certificate.identifier} {job.status}")
        if wait:
            job = self._wait(job, timeout)
            version = job.version
            self.stdout.write(
                f"job {job.pk}: succeeded in {job.duration_seconds:.1f} s; version {version.number}, serial "
                f"{version.serial}, valid until {version.not_after:%Y-%m-%d %H:%M} UTC"
            )

    def _wait(self, job: Job, timeout: int) -> Job:
        job = job_wait(job_id=job.pk, timeout_seconds=timeout)
        if job.status in OPEN_JOB_STATUSES:
            hint = " (is a worker running? `make run` starts one)" if job.status == JobStatus.QUEUED else ""
            raise CommandError(f"job {job.pk} is still {job.status} after {timeout} s{hint}")
        if job.status == JobStatus.FAILED:
            raise CommandError(f"job {job.pk} failed: {job.error}")
        return job

    def _list(self, **_):
        rows = [("DOMAIN", "SANS", "STATUS", "VERSION", "EXPIRES", "AUTO-RENEW", "NEXT-RENEWAL")]
        for cert in Certificate.objects.select_related("current_version").order_by("identifier"):
            version = cert.current_version
            rows.append(
                (
                    cert.identifier,
                    ",".join(cert.san_domains) or "-",
                    cert.status,
                    str(version.number) if version else "-",
                    f"{version.not_after:%Y-%m-%d}" if version else "-",
                    "yes" if cert.auto_renew else "no",
                    f"{cert.renew_at:%Y-%m-%d}" if cert.renew_at and cert.auto_renew else "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _certificate(domain: str) -> Certificate:
    from apps.certificates.domains import domain_clean

    certificate = Certificate.objects.filter(kind="server", identifier=domain_clean(domain)).first()
    if certificate is None:
        raise CommandError(f"no certificate for {domain} in this tenant")
    return certificate
