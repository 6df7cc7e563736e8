"""Hostile OCSP requests over real HTTP: truncated DER, wrong versions, unknown hash algorithms, several
certificates, bad nonces, huge bodies, random bytes and bit flips, bad base64 in GET paths. Each gets a
proper OCSP answer (HTTP 200, application/ocsp-response, a status a client can read): never a 5xx,
never ``internalError``."""

from __future__ import annotations

import base64
import os
import random
import socket
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from tests.pki.ocsp_support import TIMEOUT, http_call, ocsp_world

Status = ocsp.OCSPResponseStatus
SHA1 = bytes.fromhex("06052b0e03021a")
SHA256 = bytes.fromhex("0609608648016503040201")
UNKNOWN_HASHES = {
    "md5": bytes.fromhex("06082a864886f70d0205"),
    "sha3-256": bytes.fromhex("0609608648016503040208"),
    "made-up": bytes.fromhex("06032a0304"),
    "not-an-oid": bytes.fromhex("0400"),
}
NONCE_OID = bytes.fromhex("06092b0601050507300102")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with ocsp_world(django_db_blocker, tmp_path_factory.mktemp("ocsp-fuzz")) as running:
        yield running


def tlv(tag: int, *parts: bytes) -> bytes:
    content = b"".join(parts)
    size = len(content)
    length = (
        bytes([size])
        if size < 128
        else bytes([0x80 | ((size.bit_length() + 7) // 8)]) + size.to_bytes((size.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + content


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def cert_id(name_hash: bytes, key_hash: bytes, serial: int, algorithm: bytes = SHA1) -> bytes:
    return tlv(0x30, tlv(0x30, algorithm, b"\x05\x00"), tlv(0x04, name_hash), tlv(0x04, key_hash), integer(serial))


def request(*ids: bytes, version: int | None = None, extensions: list[bytes] = ()) -> bytes:
    """An OCSPRequest built by hand: its CertIDs, an explicit version, raw extensions."""
    body = tlv(0xA0, integer(version)) if version is not None else b""
    body += tlv(0x30, *(tlv(0x30, one) for one in ids))
    if extensions:
        body += tlv(0xA2, tlv(0x30, *extensions))
    return tlv(0x30, tlv(0x30, body))


def nonce_extension(value: bytes, *, wrapped: bool = True) -> bytes:
    inner = tlv(0x04, value) if wrapped else value
    return tlv(0x30, NONCE_OID, tlv(0x04, inner))


@pytest.fixture(scope="module")
def alpha_ids(world):
    """Alpha's CA as a SHA-1 CertID names it (read from a request openssl's peer library builds), and
    alice's serial."""
    alpha, _, _ = world
    leaf = x509.load_pem_x509_certificate(alpha.files["alice"].read_bytes())
    issuer = x509.load_pem_x509_certificate(alpha.ca.read_bytes())
    built = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()  # noqa: S303
    return built.issuer_name_hash, built.issuer_key_hash, leaf.serial_number


def post(world, body: bytes, **headers) -> ocsp.OCSPResponse:
    alpha, _, port = world
    status, sent, answer = http_call(port, alpha.host, "POST", "/pki/ocsp", body, headers)
    assert status == 200 and sent["Content-Type"] == "application/ocsp-response", (status, answer[:200])
    return ocsp.load_der_ocsp_response(answer)


def get(world, path: str) -> ocsp.OCSPResponse:
    alpha, _, port = world
    status, sent, answer = http_call(port, alpha.host, "GET", path)
    assert status == 200 and sent["Content-Type"] == "application/ocsp-response", (status, path[:100])
    return ocsp.load_der_ocsp_response(answer)


def test_the_hand_built_request_is_answered(world, alpha_ids):
    name_hash, key_hash, serial = alpha_ids
    answer = post(world, request(cert_id(name_hash, key_hash, serial), extensions=[nonce_extension(b"n" * 32)]))
    assert answer.response_status is Status.SUCCESSFUL and answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 32


def test_every_truncation_is_malformed(world, alpha_ids):
    whole = request(cert_id(*alpha_ids), extensions=[nonce_extension(b"x" * 16)])
    for size in range(len(whole)):
        assert post(world, whole[:size]).response_status is Status.MALFORMED_REQUEST, size
    assert post(world, whole + b"\x00").response_status is Status.MALFORMED_REQUEST, "trailing bytes"


@pytest.mark.parametrize("version", [0, 1, 2, 255, -1], ids=["explicit-v1", "v2", "v3", "v256", "negative"])
def test_a_version_other_than_an_implicit_v1_is_malformed(world, alpha_ids, version):
    # DER leaves a default value out: even an explicit v1 is not DER.
    assert post(world, request(cert_id(*alpha_ids), version=version)).response_status is Status.MALFORMED_REQUEST


@pytest.mark.parametrize("algorithm", list(UNKNOWN_HASHES), ids=list(UNKNOWN_HASHES))
def test_a_hash_algorithm_the_responder_cannot_match_is_unauthorized_or_malformed(world, alpha_ids, algorithm):
    name_hash, key_hash, serial = alpha_ids
    answer = post(world, request(cert_id(name_hash, key_hash, serial, UNKNOWN_HASHES[algorithm])))
    expected = Status.MALFORMED_REQUEST if algorithm == "not-an-oid" else Status.UNAUTHORIZED
    assert answer.response_status is expected


def test_hashes_of_the_wrong_length_or_another_algorithm_match_no_ca(world, alpha_ids):
    name_hash, key_hash, serial = alpha_ids
    assert post(world, request(cert_id(name_hash, key_hash, serial, SHA256))).response_status is Status.UNAUTHORIZED
    assert post(world, request(cert_id(b"", b"", serial))).response_status is Status.UNAUTHORIZED
    assert post(world, request(cert_id(name_hash, name_hash, serial))).response_status is Status.UNAUTHORIZED


def test_several_or_no_certificates_in_one_request_are_malformed(world, alpha_ids):
    # RFC 9919 2.1.1: one certificate per request; refused whole rather than answered in part.
    one = cert_id(*alpha_ids)
    assert post(world, request(one, one)).response_status is Status.MALFORMED_REQUEST
    assert post(world, request()).response_status is Status.MALFORMED_REQUEST


@pytest.mark.parametrize(
    ("nonce", "expected"),
    [
        (nonce_extension(b""), Status.MALFORMED_REQUEST),
        (nonce_extension(b"x" * 129), Status.MALFORMED_REQUEST),
        (nonce_extension(b"x" * 128), Status.SUCCESSFUL),
        (nonce_extension(b"\x01"), Status.SUCCESSFUL),
        # RFC 2560's clients sent the nonce bare (not in an OCTET STRING): read as the bytes it is
        (nonce_extension(b"\x02\x01\x05", wrapped=False), Status.SUCCESSFUL),
        (nonce_extension(b"a" * 16) + nonce_extension(b"b" * 16), Status.MALFORMED_REQUEST),  # twice
    ],
    ids=["empty", "129-bytes", "128-bytes", "1-byte", "bare", "duplicated"],
)
def test_nonces_are_bounded(world, alpha_ids, nonce, expected):
    assert post(world, request(cert_id(*alpha_ids), extensions=[nonce])).response_status is expected


@pytest.mark.parametrize("serial", [0, 2**200, 2**159 + 1], ids=["zero", "huge", "unissued"])
def test_serials_nobody_issued_are_unknown(world, alpha_ids, serial):
    name_hash, key_hash, _ = alpha_ids
    answer = post(world, request(cert_id(name_hash, key_hash, serial)))
    assert answer.response_status is Status.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.UNKNOWN and answer.serial_number == serial


def test_a_negative_serial_is_malformed(world, alpha_ids):
    name_hash, key_hash, _ = alpha_ids
    assert post(world, request(cert_id(name_hash, key_hash, -5))).response_status is Status.MALFORMED_REQUEST


# Bodies a client finishes sending before the answer (the loopback buffers hold them): a larger one is
# answered before it is read, and the server's close may cut the client's send short (a broken pipe) —
# test_a_huge_body_is_refused_before_it_is_sent reads that answer over a raw socket instead.
@pytest.mark.parametrize("size", [8 * 1024 + 1, 16 * 1024])
def test_huge_bodies_are_malformed(world, size):
    assert post(world, os.urandom(size)).response_status is Status.MALFORMED_REQUEST


def test_a_huge_body_is_refused_before_it_is_sent(world):
    """A client announcing 100 MB gets its answer at once: the body is never read."""
    alpha, _, port = world
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        head = (
            f"POST /pki/ocsp HTTP/1.1\r\nHost: {alpha.host}\r\nContent-Type: application/ocsp-request\r\n"
            "Content-Length: 100000000\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + b"\x30\x84")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head
    assert ocsp.load_der_ocsp_response(body).response_status is Status.MALFORMED_REQUEST


def test_random_bytes_and_bit_flips_never_fail_the_responder(world, alpha_ids):
    pick = random.Random(13)  # noqa: S311 - reproducible fuzzing, not a secret
    valid = request(cert_id(*alpha_ids), extensions=[nonce_extension(b"z" * 16)])
    seen = set()
    for _ in range(150):
        seen.add(post(world, pick.randbytes(pick.randrange(1, 400))).response_status)
    for _ in range(250):
        mutated = bytearray(valid)
        for _ in range(pick.randrange(1, 4)):
            mutated[pick.randrange(len(mutated))] ^= 1 << pick.randrange(8)
        seen.add(post(world, bytes(mutated)).response_status)
    assert Status.INTERNAL_ERROR not in seen and Status.TRY_LATER not in seen
    assert Status.MALFORMED_REQUEST in seen


@pytest.mark.parametrize(
    "path",
    [
        "/pki/ocsp",  # a GET without a request
        "/pki/ocsp/",
        "/pki/ocsp/!!!notbase64",
        "/pki/ocsp/a",
        "/pki/ocsp/====",
        "/pki/ocsp/%00%01",
        "/pki/ocsp/%0A",
        "/pki/ocsp/" + quote("é✓"),
        "/pki/ocsp/" + "A" * 5000,
        "/pki/ocsp/" + base64.b64encode(b"\x30\x03\x02\x01\x01").decode(),
        "/pki/ocsp/MEIwQDA-MDwwOjAJBgUrDgMCGgUABBQ",  # cut short
    ],
)
def test_bad_get_paths_are_malformed(world, path):
    assert get(world, path).response_status is Status.MALFORMED_REQUEST


def test_url_safe_base64_and_missing_padding_are_read(world, alpha_ids):
    der = request(cert_id(*alpha_ids))
    for encoded in (base64.urlsafe_b64encode(der).decode().rstrip("="), base64.b64encode(der).decode().rstrip("=")):
        assert get(world, "/pki/ocsp/" + encoded).response_status is Status.SUCCESSFUL


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_not_allowed(world, method):
    alpha, _, port = world
    status, _, _ = http_call(port, alpha.host, method, "/pki/ocsp", b"x")
    assert status == 405


def test_the_public_host_and_unknown_hosts_serve_no_responder(world, alpha_ids):
    _, _, port = world
    body = request(cert_id(*alpha_ids))
    for host in ("localhost", "nobody.test"):
        status, _, _ = http_call(port, host, "POST", "/pki/ocsp", body)
        assert status == 404


def test_requests_without_a_content_type_are_still_answered(world, alpha_ids):
    alpha, _, port = world
    status, headers, body = http_call(
        port, alpha.host, "POST", "/pki/ocsp", request(cert_id(*alpha_ids)), {"Content-Type": "text/plain"}
    )
    assert status == 200 and ocsp.load_der_ocsp_response(body).response_status is Status.SUCCESSFUL
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", ["crl.der", "crl.pem", "ca.der", "ca.pem"])
def test_the_files_of_a_ca_named_ocsp_are_not_taken_for_requests(world, name):
    """/pki/ocsp/crl.der is the CRL of a CA named "ocsp" (/pki/<ca>/crl.der), served by the CRL views:
    the responder leaves it alone (base64 of a DER request never reads so)."""
    alpha, _, port = world
    status, headers, _ = http_call(port, alpha.host, "GET", f"/pki/ocsp/{name}")
    assert headers.get("Content-Type") != "application/ocsp-response"
    assert status == 404  # no such CA here
