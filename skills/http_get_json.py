"""http_get_json: GET a JSON document from a declared host.

NETWORK. The request goes through ``self.context.http``, which the runtime limits to
``allowed_hosts`` — here only ``api.github.com`` (public, read-only JSON; add a host by
changing this literal, which re-pins the skill and needs a new promotion). The skill
declares no secrets, so ``self.context.secrets`` is empty: asking for ``bearer_secret`` is
refused unless that name is in ``required_secrets``, and an undeclared secret is never read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kavi_skills import BaseSkill


class HttpGetInput(BaseModel):
    """The URL, and optionally the declared secret to send as a bearer token."""

    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    bearer_secret: str | None = None


class HttpGetOutput(BaseModel):
    """The parsed JSON body."""

    url: str
    data: Any


class HttpGetJsonSkill(BaseSkill):
    """Fetch JSON over HTTP(S) from the declared hosts only."""

    name = "http_get_json"
    description = "GET a URL on a declared host (api.github.com) and return its JSON body."
    side_effect_class = "NETWORK"
    input_model = HttpGetInput
    output_model = HttpGetOutput
    required_secrets = ()
    allowed_hosts = ("api.github.com",)

    def execute(self, data: HttpGetInput) -> HttpGetOutput:
        """GET through the guarded client; headers carry a secret only if it is declared."""
        http = self.context.http
        if http is None:
            raise PermissionError("http_get_json needs the guarded HTTP client (NETWORK)")
        headers: dict[str, str] = {}
        if data.bearer_secret is not None:
            if data.bearer_secret not in self.required_secrets:
                raise PermissionError(
                    f"secret {data.bearer_secret!r} is not declared by http_get_json"
                )
            headers["Authorization"] = f"Bearer {self.context.secrets[data.bearer_secret]}"
        return HttpGetOutput(url=data.url, data=http.get_json(data.url, headers=headers))
