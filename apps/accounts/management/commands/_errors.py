from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def command_error(exc: ValidationError) -> CommandError:
    """One readable line for a ValidationError, whatever shape it has."""
    return CommandError("; ".join(exc.messages))
