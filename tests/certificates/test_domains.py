import pytest
from django.core.exceptions import ValidationError

from apps.certificates.domains import domain_clean, domains_clean


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("*.example.com", "*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("*.bücher.example", "*.xn--bcher-kva.example"),
        ("  a-b.example.org ", "a-b.example.org"),
    ],
)
def test_names_are_normalised_to_a_labels(given, expected):
    assert domain_clean(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "empty"),
        ("a.*.example.com", "whole leftmost label"),
        ("*example.com", "whole leftmost label"),
        ("**.example.com", "whole leftmost label"),
        ("-bad.example.com", "label '-bad'"),
        ("bad-.example.com", "label 'bad-'"),
        ("under_score.example.com", "label 'under_score'"),
        ("localhost", "at least two labels"),
        ("192.168.1.1", "IP address"),
        ("exa mple.com", "spaces"),
        ("example.com/path", "slashes"),
        ("user@example.com", "'@'"),
        ("a" * 64 + ".example.com", "label"),
        (".".join(["abcdefghij"] * 26) + ".com", "253"),
    ],
)
def test_bad_names_are_refused_naming_the_value(given, message):
    with pytest.raises(ValidationError) as exc:
        domain_clean(given)
    assert message in exc.value.messages[0]
    if given.strip():
        assert repr(given)[:20] in exc.value.messages[0] or given in exc.value.messages[0]


def test_identifier_comes_first_and_duplicates_are_refused():
    assert domains_clean("Example.com", ["*.example.com", "www.example.com"]) == [
        "example.com",
        "*.example.com",
        "www.example.com",
    ]
    with pytest.raises(ValidationError, match=r"www\.example\.com is listed more than once"):
        domains_clean("example.com", ["www.example.com", "WWW.example.com"])


def test_at_most_100_names():
    with pytest.raises(ValidationError, match="101 names is more than the 100"):
        domains_clean("example.com", [f"n{i}.example.com" for i in range(100)])


@pytest.mark.parametrize("given", ["xn--zz.example", "xn--a.example", "www.xn--ls8h.example", "*.xn--zz.example"])
def test_invalid_a_labels_are_refused(given):
    with pytest.raises(ValidationError, match="not a valid internationalized label"):
        domain_clean(given)


@pytest.mark.parametrize("given", ["xn--bcher-kva.example", "*.xn--bcher-kva.example", "xn--mnchen-3ya.de"])
def test_valid_a_labels_pass_as_they_are(given):
    assert domain_clean(given) == given
