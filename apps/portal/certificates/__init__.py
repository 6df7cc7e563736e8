"""The portal's certificate pages: the list (filters, sorting, paging, bulk actions), asking for a
certificate (ACME or a private CA), and a certificate's page (facts, versions, live jobs, downloads,
renew, revoke, settings, delete). Views read through apps.certificates' selectors and write through
its services with the portal's actor."""
