"""The secrets sweep's scanner finds a secret however a leak would carry it, and never shows it."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.e2e.sweep.markers import PREFIX, MarkerScanner, leak_report


def test_a_secret_is_found_in_every_encoding_a_leak_would_use():
    scanner = MarkerScanner()
    secret = scanner.secret("vault token", "storage", extra="+/ &")
    carriers = {
        "plain": f"connecting with token {secret} to vault",
        "form-encoded": urlencode({"password": secret, "next": "/admin/"}),
        "JSON": json.dumps({"headers": {"X-Vault-Token": secret}}),
        "hex": f"0x{secret.encode().hex()}",
        "basic auth": "Authorization: Basic " + base64.b64encode(f"user:{secret}".encode()).decode(),
    }
    for prefix in (b"", b"a", b"ab", b"abc"):  # every alignment inside a longer base64 blob
        blob = base64.b64encode(prefix + json.dumps({"token": secret}).encode()).decode()
        carriers[f"base64 after {len(prefix)} bytes"] = f"payload={blob}"
        carriers[f"base64url after {len(prefix)} bytes"] = base64.urlsafe_b64encode(prefix + secret.encode()).decode()
    for name, text in carriers.items():
        assert scanner.scan(name, text), f"not found when {name}"
    assert not scanner.scan("other text", f"{PREFIX}VaultToken but not the token itself")


def test_a_report_names_the_place_and_the_secret_but_masks_every_secret():
    scanner = MarkerScanner()
    token, password = scanner.secret("token", "token"), scanner.secret("password", "password")
    text = "x" * 100 + f"login ok password={password}&token={token} for admin@alpha.test" + "y" * 100
    leaks = scanner.scan("GET /api/thing", text)
    report = leak_report(leaks)
    assert {leak.secret for leak in leaks} == {"token", "password"}
    assert "GET /api/thing" in report and "admin@alpha" in report and "[secret]" in report
    assert token not in report and password not in report
    assert token[len(PREFIX) : len(PREFIX) + 16] not in report, "not even a part of the secret"
    assert scanner.mask(text.encode()) == text.replace(password, "[secret]").replace(token, "[secret]")


def test_private_keys_are_found_by_their_pem_lines_and_private_numbers_not_by_public_parts():
    scanner = MarkerScanner()
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    scanner.add_private_key("issued key", pem)
    traditional = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    jwk_d = base64.urlsafe_b64encode(scalar).decode().rstrip("=")
    for name, text in {"PKCS#8": pem, "PKCS#1/SEC1": traditional, "JWK": json.dumps({"kty": "EC", "d": jwk_d})}.items():
        assert scanner.scan(name, text), f"the key was not found as {name}"
        assert not scanner.scan(name, text, allowed_kinds=frozenset({"private key"})), "allowed where it belongs"
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not scanner.scan("public key", public), "public material is no leak"


def test_rsa_keys_too():
    scanner = MarkerScanner()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    scanner.add_private_key_object("account key", key, kind="account key")
    d = key.private_numbers().d
    assert scanner.scan("decimal d", f"d={d}")
    assert scanner.scan("PKCS#8", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))  # fmt: skip
