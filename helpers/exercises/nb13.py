"""Exercises of notebook 13 (compose: multi-service stacks)."""

from __future__ import annotations

from .. import compose
from ..shell import docker
from . import Verdict, exercise, failed, passed, whole_number


def _sql(query: str) -> str:
    return docker(
        "exec", compose.container("db"), "psql", "-U", "postgres", "-tAc", query, echo=False, show=False, timeout=30
    ).output.strip()


@exercise(
    "13.1",
    "count the datasets in the catalog",
    hint='compose.compose(healthy, "exec", "-T", "db", "psql", "-U", "postgres", "-tAc", '
    '"SELECT count(*) FROM catalog"), or len(compose.http("/catalog")).',
    solution="""
    answer = len(compose.http("/catalog"))
    """,
    takes_answer=True,
)
def count(answer: object) -> Verdict:
    actual = int(_sql("SELECT count(*) FROM catalog"))
    given = whole_number(answer)
    if isinstance(given, Verdict):
        return given
    if given == actual:
        return passed(f"the catalog table holds {actual} datasets.")
    return failed(f"{given} is not what the database says.", "Ask the database (exec) or the app (/catalog).")


@exercise(
    "13.2",
    "add a dataset to the catalog",
    hint='compose.http("/catalog", data={"title": "learner-dataset", "variable": "sea_water_temperature"})',
    solution="""
    compose.http("/catalog", data={"title": "learner-dataset", "variable": "sea_water_temperature"})
    """,
)
def add() -> Verdict:
    found = _sql("SELECT count(*) FROM catalog WHERE title = 'learner-dataset'")
    if found == "1":
        return passed("the database has a dataset titled 'learner-dataset'.")
    near = _sql("SELECT title FROM catalog WHERE title <> 'learner-dataset' AND title ILIKE '%learner%' LIMIT 1")
    if near:
        return failed(
            f"the catalog has {near!r}, but no dataset titled exactly 'learner-dataset'.",
            'compose.http("/catalog", data={"title": "learner-dataset", ...}): the title exactly so.',
        )
    return failed("no dataset titled 'learner-dataset' in the catalog table yet.")
