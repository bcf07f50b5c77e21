"""Cold start: ``sms-bot serve`` until ``/healthz`` answers, against a bare Bolt app.

Starts alternate between the bare Bolt app under gunicorn (``bench.bare_app``, until
its ``/healthz`` answers), ``sms-bot serve`` (HTTP mode: CLI, settings, gunicorn, then
the worker builds the store, the Slack client with its ``auth.test`` against the fake
Slack, and the app) and, to split the CLI's share off, gunicorn running the Procfile's
``bot.runtime.web:application()``. Medians of ``STARTS``. Then the wall time of
``python -c "import X"`` in fresh interpreters (median of ``IMPORTS``), with
``python -c pass`` for the interpreter itself. Bytecode is cached (in a temporary
``PYTHONPYCACHEPREFIX``) as in a deployment; one import row shows the cost without.

``python -m bench.coldstart``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import (
    BARE_APP,
    BARE_ENV,
    LOOPBACK,
    OUR_APP,
    Processes,
    Verdict,
    app_env,
    at_most,
    base_env,
    context,
    free_port,
    gunicorn_argv,
    median,
    print_verdicts,
    start_fakes,
    wait_http,
    workspace,
)

STARTS = 5
IMPORTS = 7
LIMIT = 1.5
#: What each start-up imports: the CLI (``sms-bot``), the worker's app, bare Bolt.
MODULES = {
    "pass": "pass",
    "import bot": "import bot",
    "import slack_bolt": "import slack_bolt",
    "import bot.cli.main": "import bot.cli.main",
    "import bot.runtime.web, bot.runtime.slack_app": (
        "import bot.runtime.web, bot.runtime.slack_app"
    ),
}


NO_CACHE = "import bot.runtime.web, bot.runtime.slack_app (no .pyc)"


def cached_bytecode(prefix: Path) -> dict[str, str]:
    """Bytecode written and read under ``prefix``: the steady state of a deployment,
    where ``.pyc`` files exist. (This sandbox sets ``PYTHONDONTWRITEBYTECODE=1`` and
    the editable ``bot/`` has no ``__pycache__``, so every start would compile it.)"""
    return {"PYTHONPYCACHEPREFIX": str(prefix)}


def without_bytecode_switch(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def sms_bot_serve() -> list[str]:
    """``sms-bot serve``, or ``python -m bot serve`` when the script is not on PATH."""
    script = shutil.which("sms-bot")
    return [script, "serve"] if script else [sys.executable, "-m", "bot", "serve"]


def time_start(
    procs: Processes, name: str, argv: list[str], env: dict[str, str], port: int
) -> float:
    """Seconds from spawning ``argv`` until ``GET /healthz`` answers 200; then stop it."""
    started = time.perf_counter()
    proc = procs.start(name, argv, env)
    try:
        ready = wait_http(
            f"http://{LOOPBACK}:{port}/healthz",
            timeout=60,
            proc=proc,
            log=procs.workdir / f"{name}.log",
        )
    finally:
        procs.stop(proc)
    return ready - started


def time_import(statement: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], env=env, check=True, timeout=60)
    return time.perf_counter() - started


def run() -> list[Verdict]:
    starts: dict[str, list[float]] = {"bare": [], "serve": [], "gunicorn": []}
    imports: dict[str, list[float]] = {name: [] for name in (*MODULES, NO_CACHE)}
    with workspace("coldstart") as procs:
        fakes = start_fakes(procs)
        cache = cached_bytecode(procs.workdir / "pycache")

        def env_for(port: int) -> dict[str, str]:
            env = app_env(
                port=port,
                slack_api_url=fakes.slack_api_url,
                octopush_url=fakes.octopush_url,
                database_url=f"sqlite:///{procs.workdir}/audit.db",
            )
            return {**without_bytecode_switch(env), **cache}

        commands: dict[str, Callable[[int], list[str]]] = {
            "bare": lambda port: gunicorn_argv(BARE_APP, port),
            "serve": lambda port: sms_bot_serve(),
            "gunicorn": lambda port: gunicorn_argv(OUR_APP, port),
        }
        # One untimed start each: the audit schema is created, files are cached.
        for run_number in range(STARTS + 1):
            for name, argv in commands.items():
                port = free_port()
                env = {**env_for(port), **(BARE_ENV if name == "bare" else {})}
                took = time_start(procs, name, argv(port), env, port)
                if run_number:
                    starts[name].append(took)
        env = {**without_bytecode_switch(base_env()), **cache}
        uncached = {**base_env(), "PYTHONDONTWRITEBYTECODE": "1"}
        for statement in MODULES.values():  # untimed: fills the bytecode cache
            time_import(statement, env)
        for _ in range(IMPORTS):
            for name, statement in MODULES.items():
                imports[name].append(time_import(statement, env))
            imports[NO_CACHE].append(
                time_import(
                    MODULES["import bot.runtime.web, bot.runtime.slack_app"], uncached
                )
            )

    print(f"cold start, median of {STARTS} (spawn until GET /healthz answers 200)")
    labels = {
        "bare": "bare Bolt app, gunicorn",
        "serve": "sms-bot serve",
        "gunicorn": "gunicorn bot.runtime.web:application()",
    }
    for name, label in labels.items():
        shown = ", ".join(f"{x * 1000:.0f}" for x in starts[name])
        print(f"  {label:<32} {median(starts[name]) * 1000:6.0f} ms  ({shown})")
    print(f"imports, median of {IMPORTS} fresh interpreters")
    for name in imports:
        print(f"  python -c {name!r:<45} {median(imports[name]) * 1000:6.0f} ms")

    bare = median(starts["bare"])
    floor = median(imports["pass"])
    bolt = median(imports["import slack_bolt"])
    verdicts = [
        at_most(
            "sms-bot serve until /healthz", median(starts["serve"]), bare, "s", LIMIT
        ),
        context(
            "  gunicorn bot.runtime.web:application()",
            median(starts["gunicorn"]),
            bare,
            "s",
        ),
        context(
            "import bot vs import slack_bolt", median(imports["import bot"]), bolt, "s"
        ),
    ]
    for name in (
        "import bot.cli.main",
        "import bot.runtime.web, bot.runtime.slack_app",
        NO_CACHE,
    ):
        verdicts.append(
            context(f"{name} vs import slack_bolt", median(imports[name]), bolt, "s")
        )
        verdicts.append(
            context(
                "  same, less the interpreter",
                median(imports[name]) - floor,
                bolt - floor,
                "s",
            )
        )
    print_verdicts("cold start (baseline: bare Bolt app / import slack_bolt)", verdicts)
    return verdicts


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    run()


if __name__ == "__main__":
    main()
