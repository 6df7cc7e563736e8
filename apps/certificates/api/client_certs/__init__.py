"""CertMate's client-certificate endpoints (/api/client-certs...), in CertMate's request and response
shapes, issuing from the tenant's default private CA with its ``client`` profile."""
