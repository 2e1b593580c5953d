"""Reading the course without a Docker daemon (Binder): cells that need Docker say so, the rest run.

When ``start()`` finds no daemon it calls :func:`activate`. From then on every cell runs inside a
guard: if it stops because Docker is missing (or because an earlier such cell defined nothing), it
prints one short line instead of a traceback, and the notebook carries on. Cells that need no daemon
(hadolint, ``docker compose config``, parsing, quizzes, plots of recorded numbers) run for real.
"""

from __future__ import annotations

import ast
import sys

from .daemon import DaemonUnavailable

NOTICE = (
    "No Docker daemon here (on Binder there is none). The outputs stored in this notebook come from a\n"
    "real run; cells that need Docker will say so when you run them, the others run for real.\n"
    "Have a remote daemon? Set DOCKER_HOST (e.g. ssh://you@host) before starting JupyterLab."
)
_state = {"active": False, "said": False}


def active() -> bool:
    return _state["active"]


def note(exc: BaseException) -> None:
    """What a guarded cell prints when it needed the daemon."""
    if isinstance(exc, DaemonUnavailable):
        reason = exc.reason
    elif isinstance(exc, NameError):
        reason = "needs an earlier Docker cell"
    else:
        reason = "its service runs in a container"
    print(f"⏭ This cell needs a Docker daemon ({reason}); its recorded output is in the stored notebook.")


class _Guard(ast.NodeTransformer):
    """Wrap a cell: ``try: <body>; _ = <last expr> except (...): note()`` then show ``_``."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if not node.body:
            return node
        body = list(node.body)
        tail: list[ast.stmt] = []
        if isinstance(body[-1], ast.Expr):  # keep the cell's displayed value
            last = body.pop()
            body.append(ast.Assign(targets=[ast.Name("_dmac_last", ast.Store())], value=last.value))
            tail = [ast.Expr(ast.Name("_dmac_last", ast.Load()))]
        guarded = ast.parse(
            "_dmac_last = None\n"
            "try:\n    pass\n"
            "except (__import__('helpers.daemon').daemon.DaemonUnavailable, NameError, ConnectionError,\n"
            "        __import__('urllib.error').error.URLError) as _dmac_exc:\n"
            "    if not __import__('helpers.offline').offline.active():\n"
            "        raise\n"
            "    __import__('helpers.offline').offline.note(_dmac_exc)\n"
        ).body
        guarded[1].body = body  # type: ignore[attr-defined]
        node.body = [*guarded, *tail]
        return ast.fix_missing_locations(node)


def deactivate() -> None:
    """A daemon answers again (or after all): the guard stays installed but lets every error through."""
    _state["active"] = False


def activate() -> None:
    """Install the guard in the running IPython kernel (once) and print the notice (once)."""
    _state["active"] = True
    if not _state["said"]:
        print(NOTICE, file=sys.stdout)
        _state["said"] = True
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not any(isinstance(t, _Guard) for t in shell.ast_transformers):
        shell.ast_transformers.append(_Guard())
