from apps.accounts.management.commands._refused import RefusedCommand


class Command(RefusedCommand):
    help = "Not offered by certmate: use manage.py tenant."
    instead = (
        "a tenant's first admin is made with `manage.py tenant create SLUG --domain HOST --admin-email E-MAIL`; "
        "that admin adds the others in the tenant's admin"
    )
