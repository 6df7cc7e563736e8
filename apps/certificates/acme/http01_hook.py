"""certbot's manual hooks for HTTP-01, as a script: certbot runs it (through a shell) for each challenge
to publish ("auth") and each to withdraw ("cleanup"). It hands what certbot put in its environment to
the worker over the run's Unix socket and exits 0 only once the worker says the challenge is published
(or withdrawn): the CA may ask for it the moment the hook returns.

    python -I http01_hook.py auth|cleanup

Standard library only: certbot's child runs it, possibly as CERTMATE_CERTBOT_USER, without Django, the
project or the worker's environment. The worker imports the framing below (http01.py).
"""

from __future__ import annotations

import json
import os
import socket
import sys

SOCKET_VARIABLE = "CERTMATE_HTTP01_SOCKET"  # the run's environment: where the worker listens
ACTIONS = ("auth", "cleanup")
MAX_MESSAGE = 4096  # bytes of one message, either way
ANSWER_SECONDS = 60  # the worker answers at once; a database write may take a moment


def send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode() + b"\n"
    if len(data) > MAX_MESSAGE:
        raise ValueError("message too long")
    sock.sendall(data)


def receive(sock: socket.socket) -> dict:
    """One newline-terminated JSON object of at most MAX_MESSAGE bytes; ValueError for anything else."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(MAX_MESSAGE + 1 - len(data))
        if not chunk:
            raise ValueError("the other end closed the connection before a whole message")
        data += chunk
        if len(data) > MAX_MESSAGE:
            raise ValueError("message too long")
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    return message


def main(argv: list[str]) -> int:
    action = argv[1] if len(argv) == 2 else ""
    path = os.environ.get(SOCKET_VARIABLE, "")
    if action not in ACTIONS or not path:
        print(f"certmate: usage: {SOCKET_VARIABLE}=<socket> http01_hook.py auth|cleanup", file=sys.stderr)
        return 2
    message = {
        "action": action,
        "domain": os.environ.get("CERTBOT_DOMAIN", ""),
        "token": os.environ.get("CERTBOT_TOKEN", ""),
        "validation": os.environ.get("CERTBOT_VALIDATION", ""),
    }
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(ANSWER_SECONDS)
            sock.connect(path)
            send(sock, message)
            answer = receive(sock)
    except (OSError, ValueError) as exc:
        print(f"certmate: the worker did not confirm the HTTP-01 {action}: {exc}", file=sys.stderr)
        return 1
    if answer.get("ok") is True:
        return 0
    print(f"certmate: {str(answer.get('error') or 'refused')[:500]}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
