from django.dispatch import Signal

# Sent once a job has failed for good (no attempts left, or a permanent failure), with
# certificate=<Certificate>, job=<Job>, reason=<str>. The certificate's current version, if any,
# stays current. Notification channels listen here.
certificate_failed = Signal()
