"""Reading the course without a Docker daemon (Binder): cells that need Docker say so, the rest run.

When ``start()`` finds no daemon it calls :func:`activate`. From then on every cell runs inside a
guard: if it stops because Docker is missing (or because an earlier such cell did not get to define a
name it uses), it prints one short line instead of a traceback, and the notebook carries on. Any other
NameError (a learner's typo) shows as usual: only the names a stopped cell would have defined count.
Cells that need no daemon (hadolint, ``docker compose config``, parsing, quizzes, plots of recorded
numbers) run for real.
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
state = {"active": False, "said": False}
undefined: set[str] = set()  # names that cells stopped by the guard would have defined


def active() -> bool:
    return state["active"]


def covers(exc: BaseException) -> bool:
    """Whether the guard speaks for ``exc``: a NameError only for a name a stopped cell would have defined."""
    if isinstance(exc, NameError) and not isinstance(exc, DaemonUnavailable):
        return getattr(exc, "name", None) in undefined
    return True


def bound_names(tree: ast.AST) -> set[str]:
    """Every name a cell binds: assignments, loop and with targets, imports, functions and classes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return names


def note(exc: BaseException, defines: tuple[str, ...] = ()) -> None:
    """What a guarded cell prints when it needed the daemon; its names are now known to be missing."""
    undefined.update(defines)
    if isinstance(exc, DaemonUnavailable):
        reason = exc.reason
    elif isinstance(exc, NameError):
        reason = "needs an earlier Docker cell"
    else:
        reason = "its service runs in a container"
    print(f"⏭ This cell needs a Docker daemon ({reason}); its recorded output is in the stored notebook.")


class Guard(ast.NodeTransformer):
    """Wrap a cell: ``try: <body>; _ = <last expr> except (...): note()`` then show ``_``."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        if not node.body:
            return node
        body = list(node.body)
        tail: list[ast.stmt] = []
        last = body[-1]
        if isinstance(last, ast.Expr):  # keep the cell's displayed value
            body.pop()
            body.append(ast.Assign(targets=[ast.Name("_dmac_last", ast.Store())], value=last.value))
            tail = [ast.Expr(ast.Name("_dmac_last", ast.Load()))]
        defines = tuple(sorted(bound_names(node) - {"_dmac_last"}))
        guarded = ast.parse(
            "_dmac_last = None\n"
            "try:\n    pass\n"
            "except (__import__('helpers.core.daemon').core.daemon.DaemonUnavailable, NameError, ConnectionError,\n"
            "        __import__('urllib.error').error.URLError,\n"
            "        __import__('helpers.core.wait').core.wait.WaitTimeout) as _dmac_exc:\n"
            "    if not (__import__('helpers.core.offline').core.offline.active()\n"
            "            and __import__('helpers.core.offline').core.offline.covers(_dmac_exc)):\n"
            "        raise\n"
            f"    __import__('helpers.core.offline').core.offline.note(_dmac_exc, {defines!r})\n"
        ).body
        guarded[1].body = body  # type: ignore[attr-defined]
        node.body = [*guarded, *tail]
        return ast.fix_missing_locations(node)


def deactivate() -> None:
    """A daemon answers again (or after all): the guard stays installed but lets every error through."""
    state["active"] = False


def activate() -> None:
    """Install the guard in the running IPython kernel (once) and print the notice (once)."""
    state["active"] = True
    if not state["said"]:
        print(NOTICE, file=sys.stdout)
        state["said"] = True
    try:
        from IPython import get_ipython  # deferred: only a kernel has IPython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not any(isinstance(t, Guard) for t in shell.ast_transformers):
        shell.ast_transformers.append(Guard())
