"""Why a certificate is revoked: RFC 5280's CRLReason (section 5.3.1), by the lowercase names certmate,
certbot and its commands use. Engine-neutral: the API, the commands and every engine read them here."""

# Every reason RFC 5280 names, with its code (7 is unused).
RFC5280_CODES = {
    "unspecified": 0,
    "keycompromise": 1,
    "cacompromise": 2,
    "affiliationchanged": 3,
    "superseded": 4,
    "cessationofoperation": 5,
    "certificatehold": 6,
    "removefromcrl": 8,
    "privilegewithdrawn": 9,
    "aacompromise": 10,
}

# The reasons a certificate's owner may give when asking for a revocation (the others are a CA's own).
REVOCATION_REASONS = ("unspecified", "keycompromise", "affiliationchanged", "superseded", "cessationofoperation")
