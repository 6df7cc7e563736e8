"""The ``manage.py pki`` command's areas, one module each: ``ca``, ``profile``, ``issue``, ``batch``.
Each module has ``register(subparsers)`` (adds its sub-commands, each with ``--tenant``, and sets
``handler`` as the parser's default: a function ``handler(command, **options)``, run in the tenant)."""
