from apps.accounts.management.commands._refused import RefusedCommand


class Command(RefusedCommand):
    help = "Not offered by certmate: use manage.py tenant."
    instead = "manage.py tenant create SLUG --domain HOST (every tenant is cloned from the migrated template)"
