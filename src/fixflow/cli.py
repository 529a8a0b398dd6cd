"""The ``fixflow`` command: demo, serve, worker, bench and Django's management commands."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
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
        # open live-event streams (/live/events/) never finish by themselves: end them on shutdown
        timeout_graceful_shutdown=5,
    )
    return 0


def worker(
    *,
    once: bool = False,
    queues: str = "default",
    interval: float = 1.0,
    tick: float = 5.0,
    max_tasks: int | None = None,
    worker_id: str | None = None,
    scheduler: bool = True,
    log_level: str | None = None,
) -> int:
    """Run the background worker: queued tasks (django-tasks-db) and the periodic scheduler."""
    _django()
    import logging

    level = (log_level or os.environ.get("FIXFLOW_LOG_LEVEL") or "INFO").upper()
    for name in ("fixflow", "django_tasks_db", "django.tasks"):
        logging.getLogger(name).setLevel(level)
    from fixflow.core.scheduler import run_worker

    return run_worker(
        once=once,
        queue_names=tuple(q.strip() for q in queues.split(",") if q.strip()) or ("default",),
        interval=interval,
        tick_seconds=tick,
        max_tasks=max_tasks,
        worker_id=worker_id,
        with_scheduler=scheduler,
    )


def start_worker_process(*extra_args: str, **popen_kwargs) -> subprocess.Popen:
    """``fixflow worker`` as a child process with this environment, in its own session so that a
    Ctrl+C in the terminal reaches only the server, which then stops the worker (:func:`stop_process`)."""
    return subprocess.Popen(  # noqa: S603 (this interpreter and this module; the arguments are ours)
        [sys.executable, "-m", "fixflow.cli", "worker", *extra_args],
        env=popen_kwargs.pop("env", None) or os.environ.copy(),
        start_new_session=True,
        **popen_kwargs,
    )


def stop_process(process: subprocess.Popen, timeout: float = 30) -> int | None:
    """SIGTERM (the worker finishes its task), then SIGKILL when it has not ended after ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def demo(host: str, port: int, serve_after: bool = True, with_worker: bool = True) -> int:
    # The demo runs on plain http://127.0.0.1: no HTTPS redirect, cookies without the Secure flag.
    overrides = {"FIXFLOW_HTTPS": "0", "FIXFLOW_BASE_URL": f"http://{host}:{port}"}
    if "FIXFLOW_EMAIL_HOST" not in os.environ:
        # No mail server is configured: keep the SLA e-mails in memory instead of failing to reach
        # 127.0.0.1:25 for each one (set FIXFLOW_EMAIL_HOST/PORT to receive them).
        overrides["FIXFLOW_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    _django(overrides)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo", url=f"http://{host}:{port}/")
    if not serve_after:
        return 0
    # the worker logs warnings only here, so that the server's terminal stays readable
    # until uvicorn installs its own handlers, SIGTERM unwinds (and stops the child) instead of killing
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    child = start_worker_process("--log-level", os.environ.get("FIXFLOW_LOG_LEVEL", "WARNING")) if with_worker else None
    print(f"\nFixflow is running at http://{host}:{port}/  (Ctrl+C to stop)\n", flush=True)
    try:
        return serve(host, port)
    finally:
        if child is not None:
            stop_process(child)


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value}")
    return number


def _non_negative(value: str) -> float:
    number = float(value)
    if not number >= 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or a positive number of seconds: {value}")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return number


def _worker_id(value: str) -> str:
    if not value.strip() or len(value) > 64:
        raise argparse.ArgumentTypeError("a worker id has 1 to 64 characters")
    return value


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
    p_demo.add_argument("--no-worker", action="store_true", help="serve without the background worker")
    p_serve = sub.add_parser("serve", help="run the web server (uvicorn)")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=8000)
    p_serve.add_argument("--workers", type=int, default=1)
    p_worker = sub.add_parser("worker", help="run queued background tasks and the periodic jobs (SLA scan…)")
    p_worker.add_argument(
        "--once", "--batch", action="store_true", help="queue the due periodic jobs, run every ready task, then exit"
    )
    p_worker.add_argument("--queues", default="default", help="comma-separated queue names (default: default)")
    p_worker.add_argument(
        "--interval", type=_non_negative, default=1.0, help="seconds between polls of an empty queue (default: 1)"
    )
    p_worker.add_argument(
        "--tick", type=_positive, default=5.0, help="seconds between the scheduler's checks for due jobs (default: 5)"
    )
    p_worker.add_argument("--max-tasks", type=_positive_int, help="exit after this many tasks")
    p_worker.add_argument(
        "--worker-id",
        type=_worker_id,
        help="unique name of this worker, up to 64 characters (default: host:pid:random)",
    )
    p_worker.add_argument("--no-scheduler", action="store_true", help="run tasks only, no periodic jobs")
    p_worker.add_argument("--log-level", help="DEBUG, INFO (default), WARNING…")
    sub.add_parser("manage", help="Django management commands, e.g. 'fixflow manage migrate'")
    p_bench = sub.add_parser("bench", help="seed N work orders and measure the API and pages")
    p_bench.add_argument("--work-orders", type=int, default=100_000)
    p_bench.add_argument("--requests", type=int, default=300, help="requests per measured operation")
    p_bench.add_argument("--keep", action="store_true", help="keep the seeded data")
    p_bench.add_argument("--output", help="also write the JSON report to this file")
    p_bench.add_argument(
        "--sla-open-work-orders",
        type=int,
        default=0,
        metavar="N",
        help="also time the SLA breach scan over N open work orders",
    )
    p_bench.add_argument("--sla-only", action="store_true", help="only the SLA measurements (no HTTP)")
    p_bench.add_argument(
        "--due-computations",
        type=_positive_int,
        default=20_000,
        metavar="N",
        help="SLA due dates computed per calendar",
    )
    p_bench.add_argument(
        "--scan-gap-minutes", type=_positive_int, default=60, metavar="M", help="minutes since the last SLA scan"
    )
    p_bench.add_argument(
        "--pm-plans", type=int, default=0, metavar="N", help="also measure preventive maintenance over N plans"
    )
    p_bench.add_argument("--pm-only", action="store_true", help="only the preventive maintenance measurements")
    p_bench.add_argument(
        "--billing-work-orders",
        type=int,
        default=0,
        metavar="N",
        help="also measure billing (invoice closed work, issue, validate) over N closed work orders",
    )
    p_bench.add_argument(
        "--billing-clients", type=_positive_int, default=500, metavar="N", help="clients of the billing work orders"
    )
    p_bench.add_argument("--billing-only", action="store_true", help="only the billing measurements")
    p_bench.add_argument("--field-app", action="store_true", help="also time the technician app on a slow network")
    p_bench.add_argument("--field-commands", type=int, default=0, metavar="N", help="also time syncing N commands")
    p_bench.add_argument("--field-only", action="store_true", help="only the field sync measurement")
    p_bench.add_argument("--live-subscribers", type=int, default=0, metavar="N", help="also time live events (N pages)")
    p_bench.add_argument("--live-only", action="store_true", help="only the live events measurement")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.host, args.port, serve_after=not args.no_serve, with_worker=not args.no_worker)
    if args.command == "worker":
        return worker(
            once=args.once,
            queues=args.queues,
            interval=args.interval,
            tick=args.tick,
            max_tasks=args.max_tasks,
            worker_id=args.worker_id,
            scheduler=not args.no_scheduler,
            log_level=args.log_level,
        )
    if args.command == "serve":
        return serve(args.host, args.port, args.workers)
    if args.command == "bench":
        _django()
        from fixflow.bench import run

        return run(
            work_orders=args.work_orders,
            requests=args.requests,
            keep=args.keep,
            output=args.output,
            sla_open_work_orders=args.sla_open_work_orders,
            sla_only=args.sla_only,
            due_computations=args.due_computations,
            scan_gap_minutes=args.scan_gap_minutes,
            pm_plans=args.pm_plans,
            pm_only=args.pm_only,
            billing_work_orders=args.billing_work_orders,
            billing_clients=args.billing_clients,
            billing_only=args.billing_only,
            field_app=args.field_app,
            field_commands=args.field_commands,
            field_only=args.field_only,
            live_subscribers=args.live_subscribers,
            live_only=args.live_only,
        )
    return 2


if __name__ == "__main__":
    sys.exit(main())
