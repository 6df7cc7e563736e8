"""certbot's HTTP-01 hooks and the worker's side of them, without a CA: the real hook script, run the way
certbot runs it (through a shell, with certbot's variables), talking to a publisher listening in a run
folder. What the worker refuses is never published; what a run published is gone when the run ends."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from apps.accounts.models import HttpChallenge
from apps.certificates.acme import http01_hook, launch
from apps.certificates.acme.http01 import Http01Publisher, hook_args
from tests.conftest import PUBLIC_HOST, TENANT_A
from tests.tools import ON_CI

NAME = "www.http01-unit.test"


def token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def key_authorization(of: str) -> str:
    return f"{of}.{token()}"  # a 43-character base64url thumbprint


def hooks() -> dict[str, str]:
    """The auth and cleanup commands exactly as certbot is given them."""
    args = hook_args()
    return {action: args[args.index(f"--manual-{action}-hook") + 1] for action in ("auth", "cleanup")}


def run_hook(action: str, env: dict[str, str], *, domain: str, token_: str, validation: str):
    certbot_env = {"CERTBOT_DOMAIN": domain, "CERTBOT_TOKEN": token_, "CERTBOT_VALIDATION": validation}
    environment = {"PATH": "/usr/bin:/bin", **env, **certbot_env}
    # Through a shell, as certbot runs its hooks.
    command = hooks()[action]
    return subprocess.run(command, shell=True, env=environment, capture_output=True, text=True, timeout=60)  # noqa: S602


@pytest.fixture
def run_folder():
    folder = Path(tempfile.mkdtemp(prefix="certmate-certbot-"))  # where real runs go
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def rows(**match):
    return HttpChallenge.objects.filter(**match)


def test_the_hook_command_is_fixed_platform_text():
    args = hook_args()
    assert args[:3] == ["--manual", "--preferred-challenges", "http-01"]
    for command in hooks().values():
        assert command.split()[2] == str(Path(http01_hook.__file__)) and command.split()[1] == "-I"


def test_a_challenge_is_published_until_cleanup_and_what_is_left_goes_with_the_run(tenant_a, run_folder):
    publisher = Http01Publisher(tenant_id=tenant_a.pk, names=[NAME, "api.http01-unit.test"])
    first, second = token(), token()
    with publisher.serving(run_folder / "http01") as (args, env):
        assert args == hook_args()
        done = run_hook("auth", env, domain=NAME.upper(), token_=first, validation=key_authorization(first))
        assert done.returncode == 0, done.stderr
        row = rows(token=first).get()
        assert (row.tenant_id, row.domain) == (tenant_a.pk, NAME)
        assert row.key_authorization.startswith(first + ".")
        done = run_hook("cleanup", env, domain=NAME, token_=first, validation=row.key_authorization)
        assert done.returncode == 0 and not rows(token=first).exists(), "cleanup withdraws it"
        done = run_hook("auth", env, domain="api.http01-unit.test", token_=second, validation=key_authorization(second))
        assert done.returncode == 0 and rows(token=second).exists()
    assert not rows(token=second).exists(), "the run's end withdraws what its cleanup did not"
    assert publisher.refusals == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("token_too_long", "not base64url of at most 128 characters"),
        ("token_with_a_slash", "not base64url of at most 128 characters"),
        ("name_not_in_the_order", "not in this order"),
        ("wildcard", "not in this order"),
        ("validation_of_another_token", "does not start with the token"),
        ("validation_without_thumbprint", "does not end with an account key thumbprint"),
    ],
)
def test_what_does_not_fit_the_order_is_refused_and_not_published(tenant_a, run_folder, case, expected):
    publisher = Http01Publisher(tenant_id=tenant_a.pk, names=[NAME])
    good = token()
    values = {"domain": NAME, "token_": good, "validation": key_authorization(good)}
    values |= {
        "token_too_long": {"token_": "A" * 129, "validation": "A" * 129 + "." + "B" * 43},
        "token_with_a_slash": {"token_": "../../etc", "validation": "../../etc." + "B" * 43},
        "name_not_in_the_order": {"domain": "elsewhere.test"},
        "wildcard": {"domain": "*.http01-unit.test"},
        "validation_of_another_token": {"validation": key_authorization(token())},
        "validation_without_thumbprint": {"validation": good + ".short"},
    }[case]
    before = HttpChallenge.objects.count()
    with publisher.serving(run_folder / "http01") as (_, env):
        done = run_hook("auth", env, **values)
        assert done.returncode == 1
        assert expected in done.stderr, done.stderr
        assert HttpChallenge.objects.count() == before
    assert expected in publisher.refusals[0]


def test_another_tenants_host_is_never_answered_for(tenant_b, run_folder):
    publisher = Http01Publisher(tenant_id=tenant_b.pk, names=[TENANT_A["domain"]])
    value = token()
    with publisher.serving(run_folder / "http01") as (_, env):
        done = run_hook("auth", env, domain=TENANT_A["domain"], token_=value, validation=key_authorization(value))
    assert done.returncode == 1 and "another tenant's host" in done.stderr
    assert not rows(token=value).exists()


@pytest.mark.parametrize(
    ("tenant", "name"),
    [("tenant_b", f"shop.{TENANT_A['domain']}"), ("tenant_a", f"newco.{PUBLIC_HOST}")],
    ids=["under_another_tenants_host", "under_the_platforms_host"],
)
def test_a_name_under_another_tenants_or_the_platforms_host_is_never_answered_for(request, run_folder, tenant, name):
    """A tenant's host still to come (newco.<the platform's host>) is the platform's: no tenant gets its
    certificate through certmate's own answers first."""
    publisher = Http01Publisher(tenant_id=request.getfixturevalue(tenant).pk, names=[name])
    value = token()
    with publisher.serving(run_folder / "http01") as (_, env):
        done = run_hook("auth", env, domain=name, token_=value, validation=key_authorization(value))
    assert done.returncode == 1 and "another tenant's host" in done.stderr, done.stderr
    assert not rows(token=value).exists()


def test_a_name_under_the_tenants_own_host_is_answered_for(tenant_a, run_folder):
    name = f"www.{TENANT_A['domain']}"
    publisher = Http01Publisher(tenant_id=tenant_a.pk, names=[name])
    value = token()
    with publisher.serving(run_folder / "http01") as (_, env):
        done = run_hook("auth", env, domain=name, token_=value, validation=key_authorization(value))
        assert done.returncode == 0, done.stderr
        assert rows(token=value, domain=name, tenant=tenant_a).exists()


def test_a_message_that_is_no_hooks_is_ignored_and_the_socket_keeps_answering(tenant_a, run_folder):
    publisher = Http01Publisher(tenant_id=tenant_a.pk, names=[NAME])
    value = token()
    with publisher.serving(run_folder / "http01") as (_, env):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(env[http01_hook.SOCKET_VARIABLE])
            sock.sendall(b"not a hook's message\n")
            assert sock.recv(100) == b"", "closed unanswered"
        done = run_hook("auth", env, domain=NAME, token_=value, validation=key_authorization(value))
        assert done.returncode == 0, done.stderr


def test_the_hook_without_a_worker_fails_and_says_so(tmp_path):
    env = {http01_hook.SOCKET_VARIABLE: str(tmp_path / "nobody-listens.sock")}
    done = run_hook("auth", env, domain=NAME, token_="t", validation="t.x")
    assert done.returncode == 1 and "did not confirm the HTTP-01 auth" in done.stderr


def _connect_as(user: tuple[int, int], path: str) -> str:
    """What a process of ``user`` gets trying the socket: "answered", or the error's name."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        result = "answered"
        try:
            os.setgroups([])
            os.setgid(user[1])
            os.setuid(user[0])
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(10)
                sock.connect(path)
                http01_hook.send(sock, {"action": "cleanup", "token": "t"})
                http01_hook.receive(sock)
        except Exception as exc:
            result = type(exc).__name__
        os.write(writer, result.encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as answer:
        return answer.read()


def test_certbots_own_user_reaches_the_socket_and_other_users_do_not(tenant_a, run_folder):
    if os.geteuid() != 0:
        if ON_CI:
            pytest.fail("CI=true: the certbot-user tests need root (CI runs as root)")
        pytest.skip("running as another user needs root")
    import pwd

    nobody = pwd.getpwnam("nobody")
    certbot_user, stranger = (nobody.pw_uid, nobody.pw_gid), (nobody.pw_uid - 1, nobody.pw_gid - 1)
    publisher = Http01Publisher(tenant_id=tenant_a.pk, names=[NAME])
    with publisher.serving(run_folder / "http01") as (_, env):
        launch.hand_over(run_folder, certbot_user)  # as runner._run does before certbot starts
        assert _connect_as(certbot_user, env[http01_hook.SOCKET_VARIABLE]) == "answered"
        assert _connect_as(stranger, env[http01_hook.SOCKET_VARIABLE]) == "PermissionError"
