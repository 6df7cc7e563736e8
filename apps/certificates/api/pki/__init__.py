"""The private CA's own API: /api/cas (hierarchies, imports, externally signed intermediates, states) and
/api/cas/{ca}/profiles. Issuing from a CA goes through /api/certificates (see issuing.py)."""
