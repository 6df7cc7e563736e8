"""The tenant's web portal: server-rendered pages (Django templates, htmx for live parts) on the tenant's
host, for the tenant's own users. How to add a page: README.md beside this file.

The portal is a face like the API and the admin: its views read through selectors and write through
services (with ``PortalView.actor``), and hold no business logic. It imports the other apps; nothing
imports it."""
