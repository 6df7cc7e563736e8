"""The private CA engine: a tenant's own certificate authorities (built with PyCA ``cryptography``)."""
