"""``doorstep serve`` (the web app under waitress) and ``doorstep user add`` (planner/staff logins)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from doorstep.geo._errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web app 启动网站 (waitress, production WSGI server)")
    p.add_argument(
        "--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for the LAN)"
    )
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    p.add_argument(
        "--instance", metavar="DIR", help="instance folder (database, secret key, config.py)"
    )
    p.add_argument("--vintage", choices=["2016", "2023"], default=None, help="village list vintage")
    p.add_argument("--data", metavar="DIR", help="reference data folder")
    p.set_defaults(func=cmd_serve)

    u = sub.add_parser("user", help="manage planner/staff logins 用户管理")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION")
    a = usub.add_parser("add", help="create or update a user")
    a.add_argument("name")
    a.add_argument("--role", choices=["planner", "staff"], required=True)
    a.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password from this environment variable (default: prompt)",
    )
    a.add_argument("--instance", metavar="DIR", help="instance folder (default: the app's)")
    a.set_defaults(func=cmd_user_add)
    u.set_defaults(func=lambda _a: (u.print_help(), 1)[1])


def cmd_serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from doorstep.webmap.app import ensure_secret_key, instance_folder

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
    sys.stdout.write(
        f"Doorstep serving {st.model.name} on http://{args.host}:{args.port}/ "
        f"(instance {inst}); Ctrl-C to stop\n"
    )
    sys.stdout.flush()
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="doorstep")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from doorstep.webmap.app import instance_folder
    from doorstep.webmap.app.db import add_user

    if args.password_env:
        pw = os.environ.get(args.password_env)
        if pw is None:
            raise InputError(f"environment variable {args.password_env} is not set")
    else:
        pw = getpass.getpass(f"password for {args.name}: ")
    inst = instance_folder(args.instance)
    os.makedirs(inst, exist_ok=True)
    add_user(os.path.join(inst, "doorstep.sqlite"), args.name, pw, args.role)
    sys.stdout.write(f"user {args.name} ({args.role}) saved in {inst}\n")
    return 0
