"""Issuing engines behind one interface: shared code asks ``engine_for(certificate)`` and never imports an
engine. ACME (apps.certificates.acme.engine) is the first; the certificates app registers it when ready."""

from apps.certificates.engines.base import Engine, EngineError, Wait
from apps.certificates.engines.registry import engine_for, engine_register

__all__ = ["Engine", "EngineError", "Wait", "engine_for", "engine_register"]
