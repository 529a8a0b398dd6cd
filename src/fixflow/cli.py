"""The ``fixflow`` command: demo, serve, worker, bench and Django's management commands."""

from __future__ import annotations

import argparse
import os
import sys


def _django(settings_overrides: dict[str, str] | None = None) -> None:
    for key, value in (settings_overrides or {}).items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fixflow.settings")
    import django

    django.setup()


def manage(argv: list[str]) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["fixflow manage", *argv])
    return 0


def serve(host: str, port: int, workers: int = 1, reload: bool = False) -> int:
    _django()
    import uvicorn

    uvicorn.run(
        "fixflow.asgi:application",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=os.environ.get("FIXFLOW_LOG_LEVEL", "warning").lower(),
        lifespan="off",
    )
    return 0


def demo(host: str, port: int, serve_after: bool = True) -> int:
    # The demo runs on plain http://127.0.0.1: no HTTPS redirect, cookies without the Secure flag.
    _django({"FIXFLOW_HTTPS": "0"})
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo")
    if serve_after:
        print(f"\nFixflow is running at http://{host}:{port}/  (Ctrl+C to stop)\n", flush=True)
        return serve(host, port)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return manage(argv[1:])
    parser = argparse.ArgumentParser(prog="fixflow", description="Fixflow work order management.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="migrate, load the demo data and serve")
    p_demo.add_argument("--host", default="127.0.0.1")
    p_demo.add_argument("--port", type=int, default=8000)
    p_demo.add_argument("--no-serve", action="store_true", help="only migrate and load the data")
    p_serve = sub.add_parser("serve", help="run the web server (uvicorn)")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("manage", help="Django management commands, e.g. 'fixflow manage migrate'")
    p_bench = sub.add_parser("bench", help="seed N work orders and measure the API and pages")
    p_bench.add_argument("--work-orders", type=int, default=100_000)
    p_bench.add_argument("--requests", type=int, default=300, help="requests per measured operation")
    p_bench.add_argument("--keep", action="store_true", help="keep the seeded data")
    p_bench.add_argument("--output", help="also write the JSON report to this file")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.host, args.port, serve_after=not args.no_serve)
    if args.command == "serve":
        return serve(args.host, args.port, args.workers)
    if args.command == "bench":
        _django()
        from fixflow.bench import run

        return run(work_orders=args.work_orders, requests=args.requests, keep=args.keep, output=args.output)
    return 2


if __name__ == "__main__":
    sys.exit(main())
