"""A rebuildable embedding index in SQLite: sqlite-vec when it loads, numpy otherwise.

Both backends rank the same way, by construction: each computes the cosine distance of
every stored vector to the query (sqlite-vec's ``vec_distance_cosine`` in SQL, or numpy),
then one shared function rounds the distances to ``DISTANCE_DECIMALS`` (so float32
rounding noise between the two cannot reorder near-ties) and sorts by (distance, id).
Brute force is deliberate: a notes vault is small, and a KNN index would make tie order
backend-specific.

The ``meta`` table records the embedding model and dimension. Opening the store with a
different model or dimension clears the vectors (they are an index, never canonical
state) and reports it in ``reset_from``; ``sync_documents`` then re-embeds everything.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from kavi_gates.errors import KaviError

DISTANCE_DECIMALS = 6
BACKEND_SQLITE_VEC = "sqlite-vec"
BACKEND_NUMPY = "numpy"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    embedding BLOB NOT NULL
);
"""


class VectorStoreError(KaviError):
    """A vector that cannot be stored or searched (wrong dimension, zero length)."""


class VectorHit(BaseModel):
    """One search result: smaller distance is nearer (cosine distance, 0..2)."""

    model_config = ConfigDict(frozen=True)
    id: str
    distance: float


class SyncReport(BaseModel):
    """What ``sync_documents`` changed."""

    model_config = ConfigDict(frozen=True)
    embedded: list[str]
    removed: list[str]
    unchanged: int
    reset_from: str | None = None
    """``"model/dimension"`` recorded before a model change cleared the index, else None."""


def content_hash(text: str) -> str:
    """The sha256 that decides whether a document must be re-embedded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_sqlite_vec(conn: sqlite3.Connection) -> bool:
    """Load the sqlite-vec extension into ``conn``; False when this Python cannot."""
    try:
        import sqlite_vec  # type: ignore[import-untyped]

        conn.enable_load_extension(True)
        try:
            sqlite_vec.load(conn)
        finally:
            conn.enable_load_extension(False)
    except (ImportError, AttributeError, sqlite3.Error):
        # AttributeError: CPython built without loadable-extension support.
        return False
    return True


def ordered_hits(ids: Sequence[str], distances: Sequence[float], top_k: int) -> list[VectorHit]:
    """The shared ranking rule: rounded distance ascending, then id ascending."""
    rounded = [round(float(d), DISTANCE_DECIMALS) for d in distances]
    order = sorted(range(len(ids)), key=lambda i: (rounded[i], ids[i]))
    return [VectorHit(id=ids[i], distance=rounded[i]) for i in order[: max(top_k, 0)]]


def cosine_distances(query: Sequence[float], matrix: np.ndarray) -> np.ndarray:
    """Cosine distance from ``query`` to each row of ``matrix`` (float32, like sqlite-vec)."""
    q = np.asarray(query, dtype=np.float32)
    rows = matrix.astype(np.float32, copy=False)
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(q)
    result: np.ndarray = 1.0 - (rows @ q) / norms
    return result


class VectorStore:
    """Embeddings of documents under one model and dimension, searchable by cosine distance."""

    def __init__(self, conn: sqlite3.Connection, model: str, dimension: int, backend: str) -> None:
        self._conn = conn
        self.model = model
        self.dimension = dimension
        self.backend = backend
        self.reset_from: str | None = None

    @classmethod
    def open(
        cls,
        path: Path | str,
        model: str,
        dimension: int,
        *,
        use_extension: bool = True,
    ) -> VectorStore:
        """Open (or create) the store at ``path`` (``":memory:"`` for a throwaway one).

        ``use_extension=False`` forces the numpy backend. A recorded model or dimension
        different from the one asked for clears the stored vectors; see ``reset_from``.
        """
        if dimension <= 0:
            raise VectorStoreError(f"embedding dimension must be positive, got {dimension}")
        conn = sqlite3.connect(str(path))
        backend = BACKEND_SQLITE_VEC if use_extension and load_sqlite_vec(conn) else BACKEND_NUMPY
        store = cls(conn, model, dimension, backend)
        with conn:
            conn.executescript(_SCHEMA)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            recorded = (meta.get("model"), meta.get("dimension"))
            if recorded != (model, str(dimension)):
                if recorded != (None, None):
                    store.reset_from = f"{recorded[0]}/{recorded[1]}"
                conn.execute("DELETE FROM vectors")
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("model", model), ("dimension", str(dimension))],
                )
        return store

    def close(self) -> None:
        """Close the underlying connection."""
        self._conn.close()

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def _blob(self, vector: Sequence[float], what: str) -> bytes:
        array = np.asarray(vector, dtype=np.float32)
        if array.shape != (self.dimension,):
            raise VectorStoreError(
                f"{what} has dimension {array.size}, the store holds {self.dimension} "
                f"({self.model})"
            )
        if not np.isfinite(array).all() or not np.any(array):
            raise VectorStoreError(f"{what} is zero or not finite: cosine distance is undefined")
        return array.tobytes()

    @contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        with self._conn:
            yield self._conn

    def upsert(self, items: Mapping[str, tuple[Sequence[float], str]]) -> None:
        """Store ``id -> (vector, content_hash)``, replacing earlier vectors, in one transaction."""
        rows = [(i, h, self._blob(v, f"vector for {i!r}")) for i, (v, h) in items.items()]
        with self._atomic() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors (id, content_hash, embedding) VALUES (?, ?, ?)",
                rows,
            )

    def delete(self, ids: Sequence[str]) -> int:
        """Remove the given ids; return how many were stored."""
        with self._atomic() as conn:
            cursor = conn.executemany("DELETE FROM vectors WHERE id = ?", [(i,) for i in ids])
        return cursor.rowcount

    def content_hashes(self) -> dict[str, str]:
        """The content hash each stored id was embedded from."""
        return dict(self._conn.execute("SELECT id, content_hash FROM vectors").fetchall())

    def search(self, query: Sequence[float], top_k: int = 5) -> list[VectorHit]:
        """The ``top_k`` nearest stored vectors to ``query``, ranked by ``ordered_hits``."""
        blob = self._blob(query, "query vector")
        if self.backend == BACKEND_SQLITE_VEC:
            rows = self._conn.execute(
                "SELECT id, vec_distance_cosine(embedding, ?) FROM vectors", (blob,)
            ).fetchall()
            return ordered_hits([r[0] for r in rows], [r[1] for r in rows], top_k)
        rows = self._conn.execute("SELECT id, embedding FROM vectors").fetchall()
        if not rows:
            return []
        matrix = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        distances = cosine_distances(np.frombuffer(blob, dtype=np.float32).tolist(), matrix)
        return ordered_hits([r[0] for r in rows], distances.tolist(), top_k)


def sync_documents(
    store: VectorStore,
    documents: Mapping[str, str],
    embed: Callable[[list[str]], list[list[float]]],
) -> SyncReport:
    """Make the store hold exactly ``documents`` (id -> text), embedding only what changed."""
    stored = store.content_hashes()
    wanted = {doc_id: content_hash(text) for doc_id, text in documents.items()}
    stale = sorted(i for i, h in wanted.items() if stored.get(i) != h)
    removed = sorted(set(stored) - set(wanted))
    if stale:
        vectors = embed([documents[i] for i in stale])
        if len(vectors) != len(stale):
            raise VectorStoreError(f"embedder returned {len(vectors)} vectors for {len(stale)}")
        store.upsert({i: (v, wanted[i]) for i, v in zip(stale, vectors, strict=True)})
    if removed:
        store.delete(removed)
    return SyncReport(
        embedded=stale,
        removed=removed,
        unchanged=len(wanted) - len(stale),
        reset_from=store.reset_from,
    )


def rank_in_memory(
    model: str, vectors: Mapping[str, Sequence[float]], query: Sequence[float], top_k: int
) -> tuple[str, list[VectorHit]]:
    """Rank ``vectors`` against ``query`` in a throwaway in-memory store; (backend, hits).

    For callers that must not write (READ_ONLY skills): same backend choice and ranking as
    a persistent store, nothing on disk.
    """
    with VectorStore.open(":memory:", model, len(query)) as store:
        store.upsert({doc_id: (vector, "") for doc_id, vector in vectors.items()})
        return store.backend, store.search(query, top_k)
