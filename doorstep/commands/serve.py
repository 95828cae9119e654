"""``doorstep serve`` (the web app under waitress) and ``doorstep user add`` (planner/staff logins)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from doorstep.geo._errors import InputError

from ._common import add_serve_options, check_port_free, port_error


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web app 启动网站 (waitress, production WSGI server)")
    add_serve_options(p)
    p.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    p.add_argument("--vintage", choices=["2016", "2023"], default=None, help="village list vintage")
    p.add_argument("--data", metavar="DIR", help="reference data folder")
    p.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage planner/staff logins 用户管理")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION")
    a = usub.add_parser("add", help="create or update a user")
    a.add_argument("name")
    a.add_argument("--role", choices=["planner", "staff"], required=True)
    pw = a.add_mutually_exclusive_group()
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
    a.add_argument("--instance", metavar="DIR", help="instance folder (default: the app's)")
    a.set_defaults(func=cmd_user_add)
    u.set_defaults(func=lambda _a: (u.print_help(), 1)[1])


def cmd_serve(args: argparse.Namespace) -> int:
    from waitress import create_server

    from doorstep.webmap.app import ensure_secret_key, instance_folder

    check_port_free(args.host, args.port)  # before minutes of loading
    inst = instance_folder(args.instance)
    ensure_secret_key(inst)  # create_app reads instance/secret_key (unless configured)
    os.environ["DOORSTEP_PRODUCTION"] = "true"
    if args.vintage:
        os.environ["DOORSTEP_VINTAGE"] = args.vintage
    if args.data:
        os.environ["DOORSTEP_DATA_DIR"] = args.data
    from doorstep.webmap.app import create_app
    from doorstep.webmap.app.state import get_state

    app = create_app(instance_path=inst)
    with app.app_context():
        st = get_state(app)
        st.engine  # noqa: B018 - build model, engine and baseline before accepting requests
        st.coverage()
    try:  # listen first, then say so: a port taken meanwhile is a message, not a traceback
        server = create_server(
            app, host=args.host, port=args.port, threads=args.threads, ident="doorstep"
        )
    except OSError as exc:
        raise port_error(args.host, args.port, exc) from exc
    sys.stdout.write(
        f"Doorstep serving {st.model.name} on http://{args.host}:{args.port}/ "
        f"(instance {inst}); Ctrl-C to stop\n"
    )
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        sys.stdout.write("Doorstep stopped\n")
    finally:
        server.close()
    return 0


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
    from doorstep.webmap.app import instance_folder
    from doorstep.webmap.app.db import add_user

    pw = read_password(args)
    inst = instance_folder(args.instance)
    os.makedirs(inst, exist_ok=True)
    add_user(os.path.join(inst, "doorstep.sqlite"), args.name, pw, args.role)
    sys.stdout.write(f"user {args.name} ({args.role}) saved in {inst}\n")
    return 0
