"""The REST API's foundation: authentication, role permissions, errors, pagination, throttles, base views."""
