"""search_notes: rank the vault's notes against a query, semantically when the LLM is up.

READ_ONLY, so it persists nothing. With ``self.context.llm`` it embeds the query and every
note in one batch and ranks them with ``kavi_skills.vectors.rank_in_memory``: a throwaway
in-memory store using sqlite-vec when the extension loads and numpy otherwise, with the
same ranking as the persistent index the runtime keeps (``kavi_skills.vectors.VectorStore``,
which owns the on-disk cache, records model + dimension and re-embeds on a model change).
The output records the embedding model, dimension and backend. Without a client, or when
the endpoint is down or misbehaves, a lexical ranking answers instead (``method="lexical"``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from kavi_skills import BaseSkill
from kavi_skills.llm import LLMError, LLMUnavailable
from kavi_skills.vectors import VectorStoreError, rank_in_memory
from skills._vault import Note, load_notes, words

_SCORE_DECIMALS = 6


class SearchInput(BaseModel):
    """What to look for and how many results to return."""

    query: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=5, ge=1, le=50)
    max_chars: int = Field(default=8_000, ge=100, le=100_000)
    """Each note is cut to this many characters before it is embedded."""


class SearchHit(BaseModel):
    """One ranked note; higher score is better (cosine similarity, or lexical overlap)."""

    path: str
    title: str
    score: float


class SearchOutput(BaseModel):
    """The ranked notes and how they were ranked."""

    query: str
    results: list[SearchHit]
    method: Literal["embedding", "lexical"]
    model: str | None = None
    dimension: int | None = None
    backend: str | None = None
    error: str | None = None


def _lexical(query: str, notes: list[Note], top_k: int) -> list[SearchHit]:
    """Share of distinct query words found in the note; ties by path."""
    wanted = set(words(query))
    scored = []
    for note in notes:
        present = set(words(f"{note.title} {note.body}"))
        score = round(len(wanted & present) / len(wanted), _SCORE_DECIMALS) if wanted else 0.0
        if score > 0:
            scored.append(SearchHit(path=note.path, title=note.title, score=score))
    return sorted(scored, key=lambda hit: (-hit.score, hit.path))[:top_k]


class SearchNotesSkill(BaseSkill):
    """Semantic search over the vault with a lexical fallback."""

    name = "search_notes"
    description = "Rank vault notes against a query by embedding similarity, or lexically."
    side_effect_class = "READ_ONLY"
    input_model = SearchInput
    output_model = SearchOutput

    def execute(self, data: SearchInput) -> SearchOutput:
        """Embed query + notes and rank by cosine distance; lexical when that fails."""
        notes = load_notes(self.context.vault_dir)
        llm = self.context.llm
        error: str | None = "no LLM client configured"
        if llm is not None and notes:
            texts = [f"{note.title}\n{note.body}"[: data.max_chars] for note in notes]
            try:
                query_vector, *note_vectors = llm.embed([data.query, *texts])
                backend, hits = rank_in_memory(
                    llm.embed_model,
                    {note.path: vec for note, vec in zip(notes, note_vectors, strict=True)},
                    query_vector,
                    data.top_k,
                )
            except (LLMUnavailable, LLMError, VectorStoreError) as exc:
                error = str(exc)
            else:
                titles = {note.path: note.title for note in notes}
                results = [
                    SearchHit(
                        path=hit.id,
                        title=titles[hit.id],
                        score=round(1.0 - hit.distance, _SCORE_DECIMALS),
                    )
                    for hit in hits
                ]
                return SearchOutput(
                    query=data.query,
                    results=results,
                    method="embedding",
                    model=llm.embed_model,
                    dimension=len(query_vector),
                    backend=backend,
                )
        elif llm is not None:
            error = None
        return SearchOutput(
            query=data.query,
            results=_lexical(data.query, notes, data.top_k),
            method="lexical",
            error=error,
        )
