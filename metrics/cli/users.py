"""`python -m metrics users ...`: add users, set passwords and roles, disable, enable and list them."""
from __future__ import annotations

import getpass
import json
import sys

from metrics.catalogue.definitions import Config
from metrics.cli.common import cli_actor, records, writer
from metrics.errors import MetricsError


def new_password(args) -> str:
    """A new password: from standard input (--password-stdin), else asked for twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise MetricsError("the two passwords differ; nothing was changed")
    return first


def cmd_users(args, config: Config) -> None:
    # Imported here, not at the top: importing accounts hashes a dummy password (argon2, ~0.3 s), which every
    # other command would pay at start-up.
    from metrics.store import accounts
    con = writer(args, config, instead="an administrator can do this on the dashboard's Users page now, or "
                                        "stop the dashboard and run the command again")
    actor = cli_actor()
    try:
        if args.action == "add":
            password = None if args.no_password else new_password(args)
            accounts.add_user(con, args.user, args.role, args.name, args.department, args.staff, password, config,
                              actor=actor)
            print(f"added {args.user.lower()} ({args.role})")
        elif args.action == "set-password":
            accounts.set_password(con, args.user, new_password(args), actor=actor)
            print(f"password set for {args.user}; their sessions were ended")
        elif args.action == "set-role":
            accounts.set_role(con, args.user, args.role, actor=actor)
            print(f"{args.user} is now {args.role}; their sessions were ended")
        elif args.action in ("disable", "enable"):
            accounts.set_active(con, args.user, args.action == "enable", actor=actor)
            print(f"{args.action}d {args.user}" + ("; their sessions were ended" if args.action == "disable" else ""))
        else:
            df = accounts.list_users(con, actor)
            print(json.dumps(records(df), indent=2) if args.json else df.to_string(index=False))
    finally:
        con.close()
