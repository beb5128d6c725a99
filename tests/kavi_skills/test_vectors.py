"""The vector store: cosine ranking, id tie-breaks, model changes, and backend parity."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kavi_skills.vectors import (
    BACKEND_NUMPY,
    BACKEND_SQLITE_VEC,
    VectorStore,
    VectorStoreError,
    content_hash,
    load_sqlite_vec,
    ordered_hits,
    rank_in_memory,
    sync_documents,
)

REPO = Path(__file__).resolve().parents[2]


def _store(path: Path | str = ":memory:", model: str = "m", dim: int = 3) -> VectorStore:
    return VectorStore.open(path, model, dim, use_extension=False)


def test_search_ranks_by_cosine_distance() -> None:
    with _store() as store:
        store.upsert({"far": ([0, 0, 1], "h"), "near": ([1, 0.1, 0], "h"), "mid": ([1, 1, 0], "h")})
        hits = store.search([1, 0, 0], top_k=3)
    assert [h.id for h in hits] == ["near", "mid", "far"]
    assert hits[2].distance == pytest.approx(1.0)


def test_ties_are_broken_by_id() -> None:
    with _store() as store:
        store.upsert({i: ([2, 0, 0], "h") for i in ("c", "a", "b")} | {"z": ([1, 0, 0], "h")})
        assert [h.id for h in store.search([1, 0, 0], top_k=4)] == ["a", "b", "c", "z"]


def test_top_k_limits_results() -> None:
    with _store() as store:
        store.upsert({str(i): ([1, i, 0], "h") for i in range(5)})
        assert [h.id for h in store.search([1, 0, 0], top_k=2)] == ["0", "1"]


def test_an_empty_store_finds_nothing() -> None:
    with _store() as store:
        assert store.search([1, 0, 0]) == []


def test_ordered_hits_ignores_float_noise_below_the_rounding() -> None:
    hits = ordered_hits(["b", "a"], [0.1000000001, 0.1000000002], 2)
    assert [h.id for h in hits] == ["a", "b"]


@pytest.mark.parametrize("vector", [[1, 0], [0, 0, 0], [float("nan"), 1, 0]])
def test_a_bad_vector_is_refused(vector: list[float]) -> None:
    with _store() as store, pytest.raises(VectorStoreError):
        store.upsert({"x": (vector, "h")})


def test_the_model_and_dimension_are_recorded(tmp_path: Path) -> None:
    _store(tmp_path / "v.db", "bge", 3).close()
    meta = dict(sqlite3.connect(tmp_path / "v.db").execute("SELECT key, value FROM meta"))
    assert meta == {"model": "bge", "dimension": "3"}


def test_reopening_with_the_same_model_keeps_the_vectors(tmp_path: Path) -> None:
    with _store(tmp_path / "v.db") as store:
        store.upsert({"a": ([1, 0, 0], "h")})
    with _store(tmp_path / "v.db") as store:
        assert len(store) == 1
        assert store.reset_from is None


@pytest.mark.parametrize(("model", "dim"), [("other", 3), ("m", 4)])
def test_a_model_or_dimension_change_clears_the_index(tmp_path: Path, model: str, dim: int) -> None:
    with _store(tmp_path / "v.db") as store:
        store.upsert({"a": ([1, 0, 0], "h")})
    with _store(tmp_path / "v.db", model, dim) as store:
        assert len(store) == 0
        assert store.reset_from == "m/3"


def _embed_len(texts: list[str]) -> list[list[float]]:
    return [[float(len(t)), 1.0, 0.0] for t in texts]


def test_sync_embeds_only_new_or_changed_documents() -> None:
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return _embed_len(texts)

    with _store() as store:
        first = sync_documents(store, {"a": "x", "b": "yy"}, embed)
        second = sync_documents(store, {"a": "x", "b": "changed", "c": "new"}, embed)
        third = sync_documents(store, {"c": "new"}, embed)
        assert store.content_hashes() == {"c": content_hash("new")}
    assert first.embedded == ["a", "b"]
    assert (second.embedded, second.unchanged) == (["b", "c"], 1)
    assert (third.embedded, third.removed) == ([], ["a", "b"])
    assert calls == [["x", "yy"], ["changed", "new"]]


def test_a_model_change_re_embeds_everything_on_sync(tmp_path: Path) -> None:
    with _store(tmp_path / "v.db", "old") as store:
        sync_documents(store, {"a": "x", "b": "y"}, _embed_len)
    with _store(tmp_path / "v.db", "new") as store:
        report = sync_documents(store, {"a": "x", "b": "y"}, _embed_len)
    assert report.embedded == ["a", "b"]
    assert report.reset_from == "old/3"


def test_the_backend_falls_back_to_numpy_when_the_extension_cannot_load() -> None:
    loadable = load_sqlite_vec(sqlite3.connect(":memory:"))
    with VectorStore.open(":memory:", "m", 3) as store:
        assert store.backend == (BACKEND_SQLITE_VEC if loadable else BACKEND_NUMPY)


_PARITY_SCRIPT = """
import json, random, sys
from kavi_skills.vectors import VectorStore
random.seed(7)
items = {f"d{i:03d}": [random.choice([-1, 0, 1, 2]) for _ in range(8)] for i in range(200)}
items = {k: v for k, v in items.items() if any(v)}
queries = [[random.choice([-1, 0, 1]) or 1 for _ in range(8)] for _ in range(20)]
out = {}
for use in (True, False):
    s = VectorStore.open(":memory:", "m", 8, use_extension=use)
    s.upsert({k: (v, "h") for k, v in items.items()})
    out[s.backend] = [[(h.id, h.distance) for h in s.search(q, 25)] for q in queries]
json.dump(out, sys.stdout)
"""


def _python_with_sqlite_extensions() -> str | None:
    """This interpreter if it loads extensions, else a same-version system one that does."""
    if load_sqlite_vec(sqlite3.connect(":memory:")):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidate = shutil.which(version, path="/usr/bin:/usr/local/bin")
    return candidate if candidate and candidate != sys.executable else None


def test_sqlite_vec_and_numpy_rank_identically() -> None:
    python = _python_with_sqlite_extensions()
    if python is None:
        pytest.skip("no Python here can load SQLite extensions")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), sysconfig.get_path("purelib")]))
    done = subprocess.run(
        [python, "-c", _PARITY_SCRIPT], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0 or BACKEND_SQLITE_VEC not in done.stdout:
        pytest.skip(f"sqlite-vec did not load under {python}: {done.stderr[-300:]}")
    results = json.loads(done.stdout)
    assert results[BACKEND_SQLITE_VEC] == results[BACKEND_NUMPY]


def test_rank_in_memory_ranks_like_a_store() -> None:
    vectors = {"b": [1.0, 0.0, 0.0], "a": [1.0, 0.0, 0.0], "c": [0.0, 1.0, 0.0]}
    backend, hits = rank_in_memory("m", vectors, [1.0, 0.2, 0.0], top_k=2)
    assert backend in (BACKEND_NUMPY, BACKEND_SQLITE_VEC)
    assert [h.id for h in hits] == ["a", "b"]
