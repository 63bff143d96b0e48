"""The one authorisation mechanism: every route declares who may call it with one of these
dependencies, and a test checks that none forgets to.

- `Anyone`: anyone, and who they are does not matter (sign-up, login, health checks).
- `Public`: anyone; the caller, if signed in, is still known (`Principal | None`).
- `SignedIn`: a signed-in user (session token as bearer or cookie).
- `Caller`: a signed-in user or a shop's API key.
- `Admin`: a platform admin.
- `shop_access()`: staff of the shop named by the `shop_id` path parameter (or its API key);
  anyone else gets 404, as if the shop's resource did not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from liveloop.accounts.errors import CsrfFailed
from liveloop.accounts.service import API_KEY_PREFIX, Principal
from liveloop.kit.deps import get_container, get_session
from liveloop.kit.errors import Forbidden, NotFound, Unauthorized

SESSION_COOKIE = "liveloop_session"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="A session token or a shop API key.")


def access(kind: str) -> Callable[[Any], Any]:
    """Mark a dependency as an access declaration (read by the route audit test)."""

    def mark(fn: Any) -> Any:
        fn.__liveloop_access__ = kind
        return fn

    return mark


async def _resolve(
    request: Request, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    accounts = get_container(request).accounts
    principal: Principal | None = None
    if credentials is not None:
        token = credentials.credentials
        if token.startswith(API_KEY_PREFIX):
            principal = await accounts.principal_for_api_key(session, token)
        else:
            principal = await accounts.principal_for_token(session, token, via="bearer")
        if principal is None:
            raise Unauthorized(
                "The token is not valid.",
                headers={"WWW-Authenticate": "Bearer"},
                code="invalid_token",
            )
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await accounts.principal_for_token(session, cookie, via="cookie")
        if principal is not None and request.method not in _SAFE_METHODS:
            presented = request.headers.get(CSRF_HEADER)
            if presented is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get("csrf_token")
                presented = value if isinstance(value, str) else None
            assert principal.token_hash is not None
            if not accounts.csrf_valid(principal.token_hash, presented):
                raise CsrfFailed("The CSRF token is missing or wrong; reload the page.")
    request.state.principal = principal
    return principal


@access("public")
async def anyone() -> None:
    """Open to everyone, and the caller's identity is not used (sign-up, login, health)."""
    return None


@access("public")
async def optional_principal(
    request: Request,
    session: AsyncSession = Depends(get_session),
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal | None:
    return await _resolve(request, session, credentials)


@access("caller")
async def require_caller(
    principal: Principal | None = Depends(optional_principal),
) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    return principal


@access("user")
async def require_user(principal: Principal = Depends(require_caller)) -> Principal:
    if principal.kind != "user":
        raise Forbidden("This needs a signed-in person, not an API key.")
    return principal


@access("admin")
async def require_admin(principal: Principal = Depends(require_user)) -> Principal:
    if not principal.is_platform_admin:
        raise Forbidden("Platform admins only.")
    return principal


def shop_access(
    *, owner: bool = False, allow_admin: bool = True
) -> Callable[..., Awaitable[Principal]]:
    """Staff (or, with owner=True, owners) of the shop in the `shop_id` path parameter."""

    @access("shop_owner" if owner else "shop_staff")
    async def dependency(
        shop_id: uuid.UUID, principal: Principal = Depends(require_caller)
    ) -> Principal:
        if principal.may_act_for_shop(shop_id, owner=owner):
            return principal
        if allow_admin and principal.is_platform_admin:
            return principal
        if owner and principal.role_in(shop_id) is not None:
            raise Forbidden("Only the shop's owners may do this.")
        raise NotFound("No such shop.", code="shop_not_found")

    return dependency  # type: ignore[no-any-return]


Anyone = Annotated[None, Depends(anyone)]
Public = Annotated[Principal | None, Depends(optional_principal)]
Caller = Annotated[Principal, Depends(require_caller)]
SignedIn = Annotated[Principal, Depends(require_user)]
Admin = Annotated[Principal, Depends(require_admin)]
ShopStaff = Annotated[Principal, Depends(shop_access())]
ShopOwner = Annotated[Principal, Depends(shop_access(owner=True))]


async def idempotency_scope_key(scope: Scope, session: AsyncSession) -> str:
    """Whose Idempotency-Key namespace a request is in (used by the unit-of-work middleware)."""
    request = Request(scope)
    authorization = request.headers.get("authorization", "")
    try:
        principal: Principal | None = None
        if authorization.lower().startswith("bearer "):
            principal = await _resolve(
                request,
                session,
                HTTPAuthorizationCredentials(
                    scheme="Bearer", credentials=authorization[7:].strip()
                ),
            )
        elif request.cookies.get(SESSION_COOKIE):
            accounts = get_container(request).accounts
            principal = await accounts.principal_for_token(
                session, request.cookies[SESSION_COOKIE], via="cookie"
            )
    except (Unauthorized, Forbidden):
        principal = None
    if principal is not None:
        return principal.scope_key
    client = scope.get("client")
    return f"anon:{client[0] if client else 'unknown'}"


async def principal_for_websocket(websocket: WebSocket, session: AsyncSession) -> Principal | None:
    """Who opened a WebSocket: the session cookie, or `?token=` for clients without cookies.
    A socket has no CSRF exposure for reads; writes over it are checked by the handler."""
    accounts = websocket.app.state.container.accounts
    token = websocket.query_params.get("token")
    if token is None:
        # A cookie travels with sockets opened by other sites' pages too: only trust it when
        # the page that opened the socket is ours (cross-site WebSocket hijacking).
        origin = websocket.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
            return None
        token = websocket.cookies.get(SESSION_COOKIE)
    if not token or token.startswith(API_KEY_PREFIX):
        return None
    try:
        principal: Principal | None = await accounts.principal_for_token(
            session, token, via="cookie"
        )
    except Unauthorized:
        return None
    return principal
