"""The certbot child gets nothing of the worker's: not its environment, not its parents', not its
descriptors, and (run as another user) not its files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from apps.certificates.acme import launch
from tests.tools import ON_CI

ROOT = Path(__file__).resolve().parents[2]
KEYS = "worker-encryption-key-5f1c2e0a9b"
SECRET_KEY = "worker-django-secret-key-77d3c1"
FILE_SECRET = "worker-secret-file-content-0e4b"

# A stand-in worker: the platform's secrets in its real environment, a secret file open on an
# inheritable descriptor, and one certbot run of the probe through the launcher.
_WORKER = """
import json, os, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from apps.certificates.acme import launch
mode, folder, secret_file, user = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
held = os.open(secret_file, os.O_RDONLY)
os.set_inheritable(held, True)
env = {{"PATH": "/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder), "CERTMATE_PROBE_FILES": secret_file}}
user = tuple(user) if user else None
launch.hand_over(folder, user)
if mode == "fork":
    code, output = launch.fork([], env=env, cwd=folder, timeout=60, user=user,
                               entry="tests.certificates.probes:look_around", path=[{root!r}])
else:
    launch.SPAWN_COMMAND = [sys.executable, "-c", "import sys; sys.path.insert(0, {root!r}); "
                            "from tests.certificates.probes import look_around; sys.exit(look_around([]))"]
    code, output = launch.spawn([], env=env, cwd=folder, timeout=60, user=user)
print(json.dumps({{"worker": os.getpid(), "code": code, "output": output}}))
"""


def _run_worker(mode: str, *, user: tuple[int, int] | None, secret_mode: int = 0o600) -> tuple[int, dict]:
    folder = Path(tempfile.mkdtemp(prefix="certmate-certbot-"))  # where real runs go (not under /root)
    secret = Path(tempfile.mkdtemp(prefix="certmate-var-")) / "secret_key"
    try:
        secret.write_text(FILE_SECRET)
        secret.chmod(secret_mode)
        done = subprocess.run(
            [sys.executable, "-c", _WORKER.format(root=str(ROOT)), mode, str(folder), str(secret), json.dumps(user)],
            env={
                "PATH": os.environ.get("PATH", ""),
                "CERTMATE_ENCRYPTION_KEYS": KEYS,
                "DJANGO_SECRET_KEY": SECRET_KEY,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(secret.parent, ignore_errors=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result["output"]
    return result["worker"], json.loads(result["output"].strip().splitlines()[-1])


def _leaks(probe: dict, *, skip: set[str] = frozenset()) -> list[str]:
    return [
        place
        for place, text in probe["seen"].items()
        if place not in skip and any(secret in text for secret in (KEYS, SECRET_KEY, FILE_SECRET))
    ]


def test_a_forked_child_sees_no_secret_of_the_worker_in_environments_or_descriptors():
    worker, probe = _run_worker("fork", user=None)
    supervisor, launcher, parent = probe["ancestors"][:3]
    assert parent == worker, "the child's parents are its supervisor and the launcher, not the worker"
    assert {f"{supervisor}/environ", f"{launcher}/environ", "self/environ"} <= set(probe["seen"])
    assert probe["fds"] == [0, 1, 2], "no descriptor of the worker's (it held the secret file open)"
    # The worker's own /proc/<pid>/environ and its files are readable by any process of its user:
    # that is what CERTMATE_CERTBOT_USER is for (below).
    assert not _leaks(probe, skip={f"{worker}/environ", *_files(probe)})


def _files(probe: dict) -> set[str]:
    return {place for place in probe["seen"] if place.startswith("file:")}


def _nobody() -> tuple[int, int]:
    if os.geteuid() != 0:
        if ON_CI:
            pytest.fail("CI=true: the certbot-user tests need root (CI runs as root)")
        pytest.skip("running certbot as another user needs root")
    import pwd

    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


@pytest.mark.parametrize("mode", ["fork", "spawn"])
def test_certbot_as_another_user_reads_no_worker_file_or_environment(mode):
    user = _nobody()
    python = os.path.realpath(sys.executable)
    if mode == "spawn" and not launch._reachable(python, *user):
        # spawn starts a new interpreter as that user (fork only needs what the launcher imported):
        # where that user cannot read Python, the setting is refused loudly instead
        with pytest.raises(launch.LaunchError, match="that user cannot read Python"):
            launch.run_as("nobody")
        return
    worker, probe = _run_worker(mode, user=user)
    assert probe["uid"] == user[0]
    assert probe["seen"][f"file:{next(iter(_files(probe)))[5:]}"] == "<PermissionError>"
    assert probe["seen"][f"{worker}/environ"] == "<PermissionError>"
    assert not _leaks(probe)


def test_another_user_needs_the_power_to_switch(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(launch, "_has_capabilities", lambda *bits: False)
    with pytest.raises(launch.LaunchError, match="run it as root or grant it CAP_CHOWN, CAP_DAC_OVERRIDE"):
        launch.run_as("nobody")
    monkeypatch.setattr(launch, "_has_capabilities", lambda *bits: True)
    monkeypatch.setattr(launch, "_python_paths", lambda: ["/root/.certmate-private-python/bin/python3"])
    with pytest.raises(launch.LaunchError, match="that user cannot read Python at /root/"):
        launch.run_as("nobody")
    with pytest.raises(launch.LaunchError, match="no such user"):
        launch.run_as("certmate-no-such-user")
    assert launch.run_as("") is None


_DOOMED_WORKER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from apps.certificates.acme import launch
launch.fork([], env={{"PATH": "/usr/bin:/bin"}}, cwd=Path(sys.argv[1]), timeout=300,
            entry="tests.certificates.probes:sleep_with_pid", path=[{root!r}])
"""


def test_a_killed_worker_takes_its_certbot_and_launcher_with_it(tmp_path):
    import psutil

    worker = subprocess.Popen(
        [sys.executable, "-c", _DOOMED_WORKER.format(root=str(ROOT)), str(tmp_path)], env={"PATH": "/usr/bin:/bin"}
    )
    pid_file = tmp_path / "probe.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and worker.poll() is None, "certbot never started"
        time.sleep(0.05)
    certbot = psutil.Process(int(pid_file.read_text()))
    family = psutil.Process(worker.pid).children(recursive=True)
    assert certbot in family and len(family) == 3, "launcher, supervisor, certbot"
    worker.kill()
    worker.wait()
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "nothing outlives it"
