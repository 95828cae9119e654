"""``doorstep serve`` (the web app under waitress) and ``doorstep user`` (planner/staff logins:
add, passwd, disable, enable, remove, list)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import socket
import sys
from typing import Any

from doorstep.geo._errors import InputError

from ._common import (
    add_basemap_options,
    add_serve_options,
    basemap_flags,
    check_port_free,
    port_error,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web app 启动网站 (waitress, production WSGI server)")
    add_serve_options(p)
    p.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes forked after loading, sharing one socket (default 1; "
        "one per core for the resident API under load)",
    )
    p.add_argument("--vintage", choices=["2016", "2023"], default=None, help="village list vintage")
    p.add_argument("--data", metavar="DIR", help="reference data folder")
    p.add_argument(
        "--https",
        action="store_true",
        help="the site is reached over HTTPS: Secure cookies and HSTS (behind a TLS proxy)",
    )
    p.add_argument(
        "--behind-proxy",
        action="store_true",
        help="trust one reverse proxy's X-Forwarded-For/-Proto/-Host (client address, scheme)",
    )
    p.add_argument(
        "--session-hours", type=float, default=None, help="login lifetime (default 10 h)"
    )
    add_basemap_options(p)
    p.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage planner/staff logins 用户管理")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION")
    a = usub.add_parser("add", help="create or update a user (ends the user's sessions)")
    a.add_argument("name")
    a.add_argument("--role", choices=["planner", "staff"], required=True)
    _password_options(a)
    a.set_defaults(func=cmd_user_add)
    pw = usub.add_parser("passwd", help="change a password (ends every session of the user)")
    pw.add_argument("name")
    _password_options(pw)
    pw.set_defaults(func=cmd_user_passwd)
    for action, text in (
        ("disable", "stop a login at once (its sessions end; scenarios stay)"),
        ("enable", "allow a disabled login again"),
        ("remove", "delete a login (its sessions end; scenarios stay)"),
    ):
        c = usub.add_parser(action, help=text)
        c.add_argument("name")
        c.add_argument("--instance", metavar="DIR", help="instance folder (default: the app's)")
        c.set_defaults(func=cmd_user_change, user_action=action)
    ls = usub.add_parser("list", help="list logins with role and state")
    ls.add_argument("--instance", metavar="DIR", help="instance folder (default: the app's)")
    ls.set_defaults(func=cmd_user_list)
    u.set_defaults(func=lambda _a: (u.print_help(), 1)[1])


def _password_options(p: argparse.ArgumentParser) -> None:
    pw = p.add_mutually_exclusive_group()
    pw.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (default: prompt)",
    )
    pw.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (scripts, pipes)",
    )
    p.add_argument("--instance", metavar="DIR", help="instance folder (default: the app's)")


def cmd_serve(args: argparse.Namespace) -> int:
    from doorstep.webmap.app import ensure_secret_key, instance_folder

    workers = int(getattr(args, "workers", 1))  # `doorstep run` serves with one process
    if not 1 <= workers <= 64 or not 1 <= args.threads <= 256:
        raise InputError("--workers must be 1..64 and --threads 1..256")
    check_port_free(args.host, args.port)  # before minutes of loading
    inst = instance_folder(args.instance)
    ensure_secret_key(inst)  # create_app reads instance/secret_key (unless configured)
    os.environ["DOORSTEP_PRODUCTION"] = "true"
    if args.vintage:
        os.environ["DOORSTEP_VINTAGE"] = args.vintage
    if args.data:
        os.environ["DOORSTEP_DATA_DIR"] = args.data
    if args.https:
        os.environ["DOORSTEP_HTTPS"] = "true"
    if args.behind_proxy:
        os.environ["DOORSTEP_BEHIND_PROXY"] = "true"
    if args.session_hours is not None:
        os.environ["DOORSTEP_SESSION_HOURS"] = repr(float(args.session_hours))
    from doorstep.webmap.app import create_app
    from doorstep.webmap.app.state import get_state

    app = create_app(instance_path=inst, basemap=basemap_flags(args))
    with app.app_context():
        st = get_state(app)
        st.engine  # noqa: B018 - build model, engine and baseline before accepting requests
        st.coverage()
    try:  # listen first, then say so: a port taken meanwhile is a message, not a traceback
        sock = listen_socket(args.host, args.port)
    except OSError as exc:
        raise port_error(args.host, args.port, exc) from exc
    opts = {
        "threads": args.threads,
        "ident": "doorstep",
        # the server refuses large bodies itself, before Flask reads them
        "max_request_body_size": int(app.config["MAX_CONTENT_LENGTH"]),
    }
    sys.stdout.write(
        f"Doorstep serving {st.model.name} on http://{args.host}:{args.port}/ "
        f"(instance {inst}, {workers} worker(s) x {args.threads} threads); Ctrl-C to stop\n"
    )
    sys.stdout.flush()
    if workers == 1:
        run_waitress(app, sock, opts)
    else:
        prefork(app, sock, opts, workers)
    return 0


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (SO_REUSEADDR, as waitress binds its own)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=1024)


def run_waitress(app: Any, sock: socket.socket, opts: dict[str, Any]) -> None:
    """Serve ``app`` with waitress on the already listening ``sock`` until stopped."""
    from waitress import create_server

    server = create_server(app, sockets=[sock], **opts)
    try:
        server.run()  # returns on Ctrl-C: waitress handles KeyboardInterrupt itself
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    sys.stdout.write("Doorstep stopped\n")


def prefork(app: Any, sock: socket.socket, opts: dict[str, Any], workers: int) -> None:
    """Fork ``workers`` waitress processes on one listening socket (the loaded county model,
    engine and baseline are shared copy-on-write; SQLite is opened per request, WAL mode).

    The parent restarts a worker that dies and, on SIGTERM or Ctrl-C, stops them all. Per-process
    state (the LRU of built results, the month-plan limit) is held by each worker.
    """
    children: set[int] = set()
    stopping = False

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # worker: default signals, serve until terminated
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                run_waitress(app, sock, opts)
            finally:
                os._exit(0)
        children.add(pid)

    def stop(_sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            spawn()
    sock.close()
    sys.stdout.write("Doorstep stopped\n")


def read_password(args: argparse.Namespace) -> str:
    """The new user's password: from ``--password-env``, ``--password-stdin`` or a prompt."""
    if args.password_env:
        pw = os.environ.get(args.password_env)
        if pw is None:
            raise InputError(f"environment variable {args.password_env} is not set")
        return pw
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError(
            "no terminal to prompt for the password; pass it with --password-env VAR "
            "(e.g. DOORSTEP_PW=... doorstep user add NAME --role staff --password-env DOORSTEP_PW) "
            "or pipe it with --password-stdin"
        )
    try:
        return getpass.getpass(f"password for {args.name}: ")
    except EOFError:
        raise InputError("no password given (end of input at the prompt)") from None


def cmd_user_add(args: argparse.Namespace) -> int:
    from doorstep.webmap.app.db import add_user

    pw = read_password(args)
    path = _db_path(args)
    add_user(path, args.name, pw, args.role)  # init_db makes its folder (0700)
    sys.stdout.write(f"user {args.name} ({args.role}) saved in {path}\n")
    return 0


def _db_path(args: argparse.Namespace) -> str:
    """The database ``doorstep serve --instance`` uses (its ``config.py`` and
    ``$DOORSTEP_DATABASE`` included: :func:`webmap.app.database_path`)."""
    from doorstep.webmap.app import database_path

    return database_path(args.instance)


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from doorstep.webmap.app.db import set_password

    set_password(_db_path(args), args.name, read_password(args))
    sys.stdout.write(f"password of {args.name} changed; every session of {args.name} ended\n")
    return 0


def cmd_user_change(args: argparse.Namespace) -> int:
    from doorstep.webmap.app.db import remove_user, set_disabled

    path = _db_path(args)
    if args.user_action == "remove":
        remove_user(path, args.name)
    else:
        set_disabled(path, args.name, args.user_action == "disable")
    sys.stdout.write(f"user {args.name}: {args.user_action}d\n")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from doorstep.webmap.app.db import list_users

    for u in list_users(_db_path(args)):
        state = "disabled 已停用" if u["disabled"] else "active 有效"
        sys.stdout.write(f"{u['username']}\t{u['role']}\t{state}\n")
    return 0
