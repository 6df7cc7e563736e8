"""Which engine serves a certificate: the one registered for its issuer's kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.certificates.engines.base import Engine

if TYPE_CHECKING:
    from django.db.models import Model

    from apps.certificates.models import Certificate

_engines: dict[type[Model], Engine] = {}
_default: list[Engine] = []


def engine_register(engine: Engine, *, issuer: type[Model], default: bool = False) -> Engine | None:
    """Serve certificates whose issuer is an ``issuer`` row with ``engine``; the ``default`` engine also
    serves those that name no issuer yet (and tells what they lack). Answers the engine it replaces."""
    replaced = _engines.get(issuer)
    _engines[issuer] = engine
    if default:
        _default[:] = [engine]
    return replaced


def engine_for(certificate: Certificate) -> Engine:
    issuer = certificate.issuer
    if issuer is None:
        if not _default:
            raise LookupError(f"{certificate.identifier} names no issuer and no engine is the default")
        return _default[0]
    for kind, engine in _engines.items():
        if isinstance(issuer, kind):
            return engine
    raise LookupError(f"no engine issues with a {type(issuer).__name__}")
