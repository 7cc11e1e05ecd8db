"""A small Discord API double on 127.0.0.1: the REST routes and the gateway the bot uses.

The real discord.py client is pointed at it through `discord.http.Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY`. It speaks just enough of the protocol: HELLO, IDENTIFY →
READY, heartbeats (acknowledged and timed), INTERACTION_CREATE dispatch, the interaction
callback and webhook follow-up routes, command sync. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 900000000000000003
CHANNEL_ID = 900000000000000004
GOOD_TOKEN = "OTAwMDAwMDAwMDAwMDAwMDAy.GdoubL.abcdefghijklmnopqrstuvwxyz0123456789AB"
#: Heartbeat interval the double asks for, in seconds (Discord's is ~41 s; short to observe it).
HEARTBEAT = 0.25

BOT_USER = {"id": str(BOT_ID), "username": "newsbot", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True, "flags": 0}


def reply(data: Any, status: int = 200) -> web.Response:
    """JSON with exactly the content type discord.py checks for (no charset suffix)."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def user_payload(user_id: int) -> dict[str, Any]:
    return {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0",
            "global_name": None, "avatar": None}


@dataclass
class Callback:
    """One interaction callback: its response type (5 = deferred) and when it arrived."""

    type: int
    at: float


@dataclass
class DiscordDouble:
    """The double's state; `start()` serves it, `stop()` shuts it down."""

    heartbeats: list[float] = field(default_factory=list)
    callbacks: dict[str, Callback] = field(default_factory=dict)
    followups: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    synced: list[tuple[str, list[str]]] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    #: Shards `GET /gateway/bot` recommends (discord.py's AutoShardedClient asks for it).
    shards: int = 1

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._seq = itertools.count(1)
        self._ws: web.WebSocketResponse | None = None
        self.shard_sockets: dict[int, web.WebSocketResponse] = {}
        self._identified = asyncio.Event()
        self._followup_arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ serving

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/api/v10/users/@me", self._me)
        app.router.add_get("/api/v10/gateway/bot", self._gateway_bot)
        app.router.add_get("/api/v10/oauth2/applications/@me", self._application)
        app.router.add_put("/api/v10/applications/{app}/commands", self._sync)
        app.router.add_put("/api/v10/applications/{app}/guilds/{guild}/commands", self._sync)
        app.router.add_post("/api/v10/interactions/{id}/{token}/callback", self._callback)
        app.router.add_post("/api/v10/webhooks/{app}/{token}", self._followup)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in {id(w): w for w in [self._ws, *self.shard_sockets.values()] if w is not None}.values():
            if not ws.closed:
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ REST

    async def _me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {GOOD_TOKEN}":
            return reply({"message": "401: Unauthorized", "code": 0}, status=401)
        return reply(BOT_USER)

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return reply({"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": self.shards,
                      "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                              "max_concurrency": 1}})

    async def _application(self, request: web.Request) -> web.Response:
        return reply({
            "id": str(APP_ID), "name": "newsbot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": user_payload(1),
            "verify_key": "0" * 64, "flags": 0, "summary": "",
        })

    async def _sync(self, request: web.Request) -> web.Response:
        commands = await request.json()
        self.synced.append((request.path, [c["name"] for c in commands]))
        guild = request.match_info.get("guild")
        out = [{**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1",
                "guild_id": guild, "default_member_permissions": c.get("default_member_permissions")}
               for c in commands]
        return reply(out)

    async def _callback(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = request.match_info["token"]
        self.callbacks[token] = Callback(body["type"], time.monotonic())
        return reply({"interaction": {
            "id": request.match_info["id"], "type": 2,
            "response_message_loading": body["type"] == 5,
            "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64),
        }})

    async def _followup(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = request.match_info["token"]
        message = {
            "id": str(next(self._ids)), "channel_id": str(CHANNEL_ID), "author": BOT_USER,
            "content": body.get("content") or "", "timestamp": "2025-01-01T00:00:00+00:00",
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": body.get("embeds") or [],
            "pinned": False, "type": 0, "flags": body.get("flags") or 0,
            "components": body.get("components") or [], "webhook_id": str(APP_ID),
        }
        self.followups[token] = (time.monotonic(), body)
        self._followup_arrived.set()
        return reply(message)

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": int(HEARTBEAT * 1000)}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            payload = json.loads(msg.data)
            if payload["op"] == 1:
                self.heartbeats.append(time.monotonic())
                await ws.send_json({"op": 11})
            elif payload["op"] == 2:
                self.identify = payload["d"]
                shard = list(payload["d"].get("shard") or [0, 1])
                self.shard_sockets[shard[0]] = ws
                await self.dispatch("READY", {
                    "v": 10, "user": BOT_USER, "guilds": [], "session_id": f"double-{shard[0]}",
                    "resume_gateway_url": self.gateway_url, "shard": shard,
                    "application": {"id": str(APP_ID), "flags": 0},
                }, shard=shard[0])
                self._identified.set()
        return ws

    async def dispatch(self, event: str, data: dict[str, Any], shard: int | None = None) -> None:
        """Send one gateway DISPATCH event to the connected bot (on `shard`'s connection when given)."""
        ws = self.shard_sockets.get(shard) if shard is not None else self._ws
        assert ws is not None, f"shard {shard} is not connected"
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def wait_shards(self, count: int, timeout: float = 30.0) -> None:
        """Wait until `count` shards identified (bounded by `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.shard_sockets) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.shard_sockets)} of {count} shards identified")
            await asyncio.sleep(0.05)

    async def wait_identified(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._identified.wait(), timeout)

    async def slash(self, user_id: int, name: str, *, shard: int | None = None, guild_id: int = GUILD_ID,
                    **options: Any) -> str:
        """Dispatch a slash command invocation (on `shard`, from `guild_id`); returns its token."""
        token = f"token-{next(self._ids)}"
        await self.dispatch("INTERACTION_CREATE", {
            "id": str(next(self._ids)), "application_id": str(APP_ID), "type": 2, "token": token,
            "version": 1, "guild_id": str(guild_id), "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(guild_id),
                        "name": "general", "position": 0, "permission_overwrites": [],
                        "nsfw": False, "parent_id": None},
            "member": {"user": user_payload(user_id), "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
                       "deaf": False, "mute": False, "flags": 0, "permissions": "2048"},
            "data": {"id": "1", "name": name, "type": 1,
                     "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]},
            "app_permissions": "2048", "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0, "attachment_size_limit": 8388608,
        }, shard=shard)
        return token

    async def wait_followups(self, tokens: list[str], timeout: float) -> None:
        """Wait until every token got a follow-up (bounded by `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not all(t in self.followups for t in tokens):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = [t for t in tokens if t not in self.followups]
                raise TimeoutError(f"no follow-up for {len(missing)} interaction(s)")
            self._followup_arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._followup_arrived.wait(), min(remaining, 0.5))
