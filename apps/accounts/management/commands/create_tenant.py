from apps.accounts.management.commands._refused import RefusedCommand


class Command(RefusedCommand):
    help = "Not offered by certmate: use manage.py tenant."
    instead = "use `manage.py tenant create SLUG --domain HOST [--admin-email E-MAIL]` instead"
