"""The ``audience`` command line: serve, worker, token, rebuild."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from starlette.types import ASGIApp

from api.auth import Role, mint_token
from api.logs import configure_logging
from api.settings import Settings


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.dashboard import announce_when_ready, dashboard_link, demo_creator

    host, port = args.host or settings.host, args.port or settings.port
    app: ASGIApp = create_app(settings)
    if settings.audience_demo:  # a demo creator exists: hand the developer a signed-in link
        creator = demo_creator(settings.audience_demo_creators)
        link = dashboard_link(settings.jwt_secret(), host, port, creator)
        app = announce_when_ready(app, f"Creator dashboard ({creator}): {link}")
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    ttl = timedelta(hours=args.hours) if args.hours else None
    print(mint_token(settings.jwt_secret(), args.sub, args.role or ["viewer"], ttl))
    return 0


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} events")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


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
        return await rebuild_all(services, _progress)

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
                                      queue_policy=settings.queue_policy())
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
    parser = argparse.ArgumentParser(prog="audience", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the GraphQL API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(handler=_serve)
    token = sub.add_parser("token", help="mint a development token")
    token.add_argument("--sub", required=True, help="user id")
    token.add_argument("--role", action="append", choices=[r.value for r in Role])
    token.add_argument("--hours", type=float, help="expiry (default: none)")
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.audience_log_level)
    return int(args.handler(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
