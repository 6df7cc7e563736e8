"""How long a tenant may make a certbot run wait: one run holds one of the tenant's worker slots
meanwhile (fair workers), so every tenant-set duration is capped here."""

# The longest DNS propagation wait a tenant may ask for. Stored values above it (from before the cap)
# are used as the cap.
MAX_PROPAGATION_SECONDS = 600
# lego's timing variables a tenant may set in `multi`: (name suffix, lowest, highest) in seconds.
LEGO_SECONDS_BOUNDS = (
    ("_TTL", 1, 86400),
    ("_PROPAGATION_TIMEOUT", 1, MAX_PROPAGATION_SECONDS),
    ("_POLLING_INTERVAL", 1, 60),
    ("_SEQUENCE_INTERVAL", 1, 60),
    ("_HTTP_TIMEOUT", 1, 60),
    ("_DNS_TIMEOUT", 1, 60),
)
