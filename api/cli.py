"""The ``audience`` command line: serve, worker, token, rebuild.

Errors are one line on stderr and a non-zero exit (2 for usage, 1 otherwise), never a
traceback; ``AUDIENCE_LOG_LEVEL=DEBUG`` logs the traceback of an unexpected one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import timedelta
from typing import NoReturn

from pydantic import ValidationError

from api.auth import (
    DEFAULT_TOKEN_TTL,
    MAX_SUB_LENGTH,
    Claims,
    ClaimsError,
    Role,
    mint_token,
)
from api.logs import LOG_FORMATS, configure_logging
from api.progress import progress_bar
from api.settings import ConfigurationError, Settings

#: the longest lifetime ``audience token --hours`` mints (a development tool: 30 days)
MAX_TOKEN_HOURS = 24 * 30

log = logging.getLogger("audience.cli")


class CommandError(Exception):
    """A refusal the user can fix: printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host, port = args.host or settings.host, args.port or settings.port
    if args.workers < 1:
        raise CommandError("--workers must be at least 1")
    try:
        settings.check_bind(host)
    except ConfigurationError as exc:
        raise CommandError(str(exc)) from None
    if args.workers > 1:
        if settings.embedded:
            raise CommandError("--workers > 1 needs MONGODB_URL: each worker process would get "
                               "its own embedded in-memory store")
        # Each worker process builds its own app from the same environment.
        os.environ["AUDIENCE_LOG_FORMAT"] = settings.audience_log_format
        uvicorn.run("api.app:app_from_environment", factory=True, workers=args.workers,
                    host=host, port=port, log_config=None, access_log=False)
        return 0
    from starlette.types import ASGIApp

    from api.app import create_app
    from api.dashboard import announce_when_ready, dashboard_link, demo_creator

    app: ASGIApp = create_app(settings)
    if settings.audience_demo:  # a demo creator exists: hand the developer a signed-in link
        creator = demo_creator(settings.audience_demo_creators)
        link = dashboard_link(settings.jwt_secret(), host, port, creator)
        app = announce_when_ready(app, f"Creator dashboard ({creator}): {link}")
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    if not 0 < args.hours <= MAX_TOKEN_HOURS:
        print(f"audience token: --hours must be above 0 and at most {MAX_TOKEN_HOURS}",
              file=sys.stderr)
        return 2
    roles = args.role or ["viewer"]
    try:
        Claims.parse({"sub": args.sub, "roles": roles})  # what the server would refuse
    except ClaimsError:
        print(f"audience token: --sub must be 1-{MAX_SUB_LENGTH} printable characters with no "
              "leading or trailing whitespace", file=sys.stderr)
        return 2
    try:
        secret = settings.jwt_secret()
    except ConfigurationError as exc:
        print(f"audience token: {exc}", file=sys.stderr)
        return 2
    print(mint_token(secret, args.sub, roles, timedelta(hours=args.hours)))
    return 0


def _rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from api.bootstrap import bootstrap
    from services.rebuild import rebuild_all
    from store.database import Store

    if settings.embedded:
        print("rebuild needs MONGODB_URL: the embedded store lives inside the server process",
              file=sys.stderr)
        return 2

    async def run() -> int:
        store = Store.open(settings.mongodb_url, settings.mongodb_db)
        services = bootstrap(store)
        await services.start()
        with progress_bar("rebuild: events replayed") as progress:
            return await rebuild_all(services, progress)

    replayed = asyncio.run(run())
    print(f"rebuilt from {replayed} events")
    return 0


def _shard(settings: Settings, args: argparse.Namespace) -> int:
    from store.database import Store
    from store.shards import initiate_cluster, shard_collections

    if settings.embedded:
        print("shard needs MONGODB_URL pointing at a mongos router", file=sys.stderr)
        return 2

    async def run() -> list[str]:
        store = Store.open(settings.mongodb_url, settings.mongodb_db)
        try:
            if args.config_server:
                await initiate_cluster(args.config_server, args.shard or [], store)
            return await shard_collections(store, settings.mongodb_db)
        finally:
            store.close()

    sharded = asyncio.run(run())
    print(f"indexes created; {len(sharded)} collections sharded: {', '.join(sharded)}")
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal

    from pymongo.errors import PyMongoError

    from api.bootstrap import bootstrap
    from domain.queue import MAX_BATCH_SIZE, MIN_BATCH_SIZE
    from services.worker import QueueWorker
    from store.database import Store

    if settings.embedded:
        print("worker needs MONGODB_URL: the embedded store lives inside the server process, "
              "which runs its own worker", file=sys.stderr)
        return 2
    batch_size = (settings.audience_worker_batch_size if args.batch_size is None
                  else args.batch_size)
    if not MIN_BATCH_SIZE <= batch_size <= MAX_BATCH_SIZE:
        print(f"--batch-size must be between {MIN_BATCH_SIZE} and {MAX_BATCH_SIZE}",
              file=sys.stderr)
        return 2

    async def run() -> int:
        store = Store.open(settings.mongodb_url, settings.mongodb_db)
        try:
            services = bootstrap(store,
                                 config_cache_seconds=settings.audience_config_cache_seconds,
                                 queue_policy=settings.queue_policy(),
                                 location_grid=settings.location_grid())
            try:
                await services.start()
            except PyMongoError as exc:  # exit non-zero; the supervisor restarts the worker
                print(f"worker cannot reach the store: {type(exc).__name__}", file=sys.stderr)
                return 1
            worker = QueueWorker(services, args.worker_id)
            if args.once:
                result = await (worker.drain(batch_size) if args.drain
                                else worker.run_once(batch_size, count_remaining=True))
                print(f"processed {result.processed}, retried {result.retried}, "
                      f"failed {result.failed}, redelivered {result.redelivered}")
                return 0
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):  # finish the batch in hand, then exit
                loop.add_signal_handler(sig, stop.set)
            await worker.run_forever(stop, batch_size=batch_size, drain=args.drain)
            return 0
        finally:
            store.close()

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="audience", description="Audience segments: the API and its tools.")
    parser.add_argument("--log-format", choices=LOG_FORMATS,
                        help="text for people (default), json for log collectors "
                             "(or AUDIENCE_LOG_FORMAT)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="run the GraphQL API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1,
                       help="API processes (more than 1 needs MONGODB_URL)")
    serve.set_defaults(handler=_serve)
    token = sub.add_parser("token", help="mint a development token")
    token.add_argument("--sub", required=True, help="user id")
    token.add_argument("--role", action="append", choices=[r.value for r in Role])
    token.add_argument("--hours", type=float, default=DEFAULT_TOKEN_TTL.total_seconds() / 3600,
                       help="hours until the token expires (default %(default)g)")
    token.set_defaults(handler=_token)
    worker = sub.add_parser("worker", help="run the segment computation queue worker")
    worker.add_argument("--once", action="store_true",
                        help="one pass over the due jobs, then exit (scripts, tests)")
    worker.add_argument("--drain", action="store_true",
                        help="take pending jobs whether due or not (with --once: until empty)")
    worker.add_argument("--worker-id", help="name in leases and heartbeats (default host:pid)")
    worker.add_argument("--batch-size", type=int, help="jobs per pass (default 100)")
    worker.set_defaults(handler=_worker)
    rebuild = sub.add_parser("rebuild", help="recompute everything from the event ledger")
    rebuild.set_defaults(handler=_rebuild)
    shard = sub.add_parser("shard", help="create the indexes and shard every collection as "
                                         "store/shards.py declares (MONGODB_URL: a mongos)")
    shard.add_argument("--config-server", metavar="SET/HOST:PORT",
                       help="a fresh cluster: initiate this config server replica set first")
    shard.add_argument("--shard", action="append", metavar="SET/HOST:PORT",
                       help="with --config-server: a shard to initiate and add (repeat)")
    shard.set_defaults(handler=_shard)
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (it prints the whole usage block)."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{message} (see: {self.prog} --help)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        try:
            settings = Settings()
        except ValidationError as exc:
            first = exc.errors()[0]
            name = "_".join(str(part) for part in first["loc"]).upper()
            raise CommandError(f"invalid setting {name}: {first['msg']}") from exc
        if args.log_format:
            settings.audience_log_format = args.log_format
        configure_logging(settings.audience_log_level, settings.audience_log_format)
        return int(args.handler(settings, args))
    except CommandError as exc:
        _fail(str(exc))
        return exc.status
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for people; the traceback only at DEBUG
        log.debug("command failed", exc_info=exc)
        _fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        return 1


def _fail(message: str) -> None:
    print(f"audience: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
