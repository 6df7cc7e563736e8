"""Run the test identity provider: ``python -m tests.oidc_provider.serve CONFIG.json``.

Creates its SQLite database, its users (with groups) and its clients from the config, then serves
HTTPS on 127.0.0.1 with a threaded WSGI server until terminated.
"""

import json
import os
import ssl
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class HttpsHandler(WSGIRequestHandler):
    def get_environ(self):
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # so the provider builds https:// URLs
        return environ


def populate(config: dict) -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for spec in config["users"]:
        user = User.objects.create_user(spec["username"], spec["email"], spec["password"])
        user.groups.set(Group.objects.get_or_create(name=name)[0] for name in spec["groups"])
    for spec in config["clients"]:
        Application.objects.create(
            name=spec["client_id"],
            client_id=spec["client_id"],
            client_secret=spec["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(spec["redirect_uris"]),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )


def main() -> None:
    config_path = sys.argv[1]
    config = json.loads(Path(config_path).read_text())
    os.environ["IDP_CONFIG"] = config_path
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    populate(config)
    server = make_server("127.0.0.1", config["port"], get_wsgi_application(), ThreadingWSGIServer, HttpsHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["tls_cert"], config["tls_key"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("serving", config["issuer"], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
