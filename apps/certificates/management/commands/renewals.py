import time

from django.core.management.base import BaseCommand, CommandError

from apps.certificates.acme.ari_refresh import certificates_ari_refresh
from apps.certificates.models import Job, JobStatus
from apps.certificates.selectors import OPEN_JOB_STATUSES
from apps.certificates.services.renewals import renewal_sweep_all
from apps.certificates.services.schedule import schedule_install


class Command(BaseCommand):
    help = "Renewals: run the sweep now, ask the CAs for renewal windows (ARI), or install the schedule into beat."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run-due", help="sweep now: queue a renewal for every certificate that is due")
        run.add_argument("--tenant", action="append", dest="tenants", help="only this tenant (repeatable)")
        run.add_argument("--wait", action="store_true", help="wait until the queued renewals have finished")
        run.add_argument("--timeout", type=int, default=3600)
        run.add_argument("--no-jitter", action="store_true", help="queue every renewal at once")
        sub.add_parser("install-schedule", help="create or update the periodic sweeps (safe to repeat)")
        ari = sub.add_parser("ari-refresh", help="ask the CAs offering ARI for the due certificates' renewal windows")
        ari.add_argument("--tenant", action="append", dest="tenants", help="only this tenant (repeatable)")

    def handle(self, *args, action, **options):
        if action == "install-schedule":
            for task in schedule_install():
                # IntervalSchedule reads "every 3600 seconds" on its own.
                self.stdout.write(f"installed {task.name!r}: {task.task} {task.interval}")
            return
        if action == "ari-refresh":
            self._ari_refresh(options["tenants"])
            return
        self._run_due(**options)

    def _ari_refresh(self, tenants: list[str] | None) -> None:
        from django_tenants.utils import tenant_context

        from apps.accounts.selectors import tenants_active

        found = list(tenants_active(slugs=tenants))
        missing = set(tenants or ()) - {tenant.schema_name for tenant in found}
        if missing:
            raise CommandError(f"no active tenant with slug {', '.join(sorted(missing))}")
        for tenant in found:
            with tenant_context(tenant):
                done = certificates_ari_refresh()
            self.stdout.write(f"{tenant.schema_name}: {done.asked} asked, {done.moved} moved, {done.failed} failed")

    def _run_due(self, *, tenants, wait, timeout, no_jitter, **_):
        from django_tenants.utils import tenant_context

        from apps.accounts.models import Tenant

        summaries = renewal_sweep_all(slugs=tenants, jitter_seconds=0 if no_jitter else None)
        if tenants and len(summaries) != len(set(tenants)):
            found = {s.tenant for s in summaries}
            raise CommandError(f"no active tenant with slug {', '.join(sorted(set(tenants) - found))}")
        for summary in summaries:
            sweep = summary.sweep
            self.stdout.write(
                f"{summary.tenant}: {sweep.due} due, {sweep.queued} queued, {sweep.reaped} lost jobs retried"
            )
        if not wait:
            return
        deadline = time.monotonic() + timeout
        for summary in summaries:
            with tenant_context(Tenant.objects.get(schema_name=summary.tenant)):
                jobs = Job.objects.filter(sweep=summary.sweep)
                while jobs.filter(status__in=OPEN_JOB_STATUSES).exists():
                    if time.monotonic() > deadline:
                        raise CommandError(f"{summary.tenant}: renewals still running after {timeout} s")
                    time.sleep(1)
                renewed = jobs.filter(status=JobStatus.SUCCEEDED).count()
                failed = jobs.filter(status=JobStatus.FAILED)
                self.stdout.write(f"{summary.tenant}: {renewed} renewed, {failed.count()} failed")
                for job in failed.select_related("certificate"):
                    self.stdout.write(f"  {job.certificate.identifier}: {job.error}")
