"""Accounts' HTTP routes: thin; the work is in the service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from liveloop.accounts.auth import SESSION_COOKIE, Anyone, Caller, ShopOwner, ShopStaff, SignedIn
from liveloop.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Login,
    MemberAdd,
    MembershipOut,
    MeOut,
    ProfileUpdate,
    SessionOut,
    SignUp,
    UserOut,
)
from liveloop.accounts.service import Principal
from liveloop.accounts.service import SignedIn as SignedInResult
from liveloop.kit.deps import AppContainer, DbSession
from liveloop.kit.errors import Forbidden
from liveloop.kit.http import client_address

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _session_response(
    container: AppContainer, response: Response, result: SignedInResult, request: Request
) -> SessionOut:
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=int(container.accounts.session_ttl.total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return SessionOut(
        token=result.token,
        expires_at=result.session.expires_at,
        csrf_token=container.accounts.csrf_token(result.session.token_hash),
        user=UserOut.model_validate(result.user),
    )


@router.post("/auth/signup", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def sign_up(
    body: SignUp,
    request: Request,
    response: Response,
    session: DbSession,
    container: AppContainer,
    _: Anyone,
) -> SessionOut:
    """Create an account and sign in. Every account can buy; other roles are added later."""
    result = await container.accounts.sign_up(
        session,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        country=body.country,
        time_zone=body.time_zone,
        locale=body.locale,
        ip_address=client_address(request.scope),
        user_agent=request.headers.get("user-agent"),
    )
    return _session_response(container, response, result, request)


@router.post("/auth/login", response_model=SessionOut)
async def log_in(
    body: Login,
    request: Request,
    response: Response,
    session: DbSession,
    container: AppContainer,
    _: Anyone,
) -> SessionOut:
    """Exchange email and password for a session token (also set as an HttpOnly cookie)."""
    result = await container.accounts.log_in(
        session,
        email=body.email,
        password=body.password,
        ip_address=client_address(request.scope),
        user_agent=request.headers.get("user-agent"),
    )
    return _session_response(container, response, result, request)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def log_out(
    principal: SignedIn, session: DbSession, container: AppContainer, response: Response
) -> Response:
    await container.accounts.log_out(session, principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _me(container: AppContainer, session: DbSession, user_id: uuid.UUID) -> MeOut:
    user = await container.accounts.get_user(session, user_id)
    memberships = await container.accounts.list_memberships(session, user_id)
    principal_roles = ["buyer"]
    if user.is_creator:
        principal_roles.append("creator")
    if memberships:
        principal_roles.append("seller")
    if user.is_platform_admin:
        principal_roles.append("admin")
    return MeOut(
        **UserOut.model_validate(user).model_dump(),
        roles=principal_roles,
        memberships=[MembershipOut.model_validate(m) for m in memberships],
    )


@router.get("/me", response_model=MeOut)
async def me(principal: SignedIn, session: DbSession, container: AppContainer) -> MeOut:
    assert principal.user_id is not None
    return await _me(container, session, principal.user_id)


@router.patch("/me", response_model=MeOut)
async def update_me(
    body: ProfileUpdate, principal: SignedIn, session: DbSession, container: AppContainer
) -> MeOut:
    assert principal.user_id is not None
    await container.accounts.update_profile(session, principal.user_id, body.model_dump())
    return await _me(container, session, principal.user_id)


@router.get("/shops/{shop_id}/members", response_model=list[MembershipOut])
async def list_members(
    shop_id: uuid.UUID, _: ShopStaff, session: DbSession, container: AppContainer
) -> list[MembershipOut]:
    members = await container.accounts.list_members(session, shop_id)
    return [MembershipOut.model_validate(m) for m in members]


@router.post(
    "/shops/{shop_id}/members", status_code=status.HTTP_201_CREATED, response_model=MembershipOut
)
async def add_member(
    shop_id: uuid.UUID,
    body: MemberAdd,
    principal: ShopOwner,
    session: DbSession,
    container: AppContainer,
) -> MembershipOut:
    assert principal.user_id is not None or principal.is_platform_admin
    membership = await container.accounts.add_member_by_email(
        session, shop_id=shop_id, email=str(body.email), role=body.role, actor_id=_actor(principal)
    )
    return MembershipOut.model_validate(membership)


@router.delete("/shops/{shop_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    shop_id: uuid.UUID,
    user_id: uuid.UUID,
    principal: ShopOwner,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.accounts.remove_member(
        session, shop_id=shop_id, user_id=user_id, actor_id=_actor(principal)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/shops/{shop_id}/api-keys", response_model=list[ApiKeyOut])
async def list_api_keys(
    shop_id: uuid.UUID, _: ShopOwner, session: DbSession, container: AppContainer
) -> list[ApiKeyOut]:
    return [
        ApiKeyOut.model_validate(k)
        for k in await container.accounts.list_api_keys(session, shop_id)
    ]


@router.post(
    "/shops/{shop_id}/api-keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated
)
async def create_api_key(
    shop_id: uuid.UUID,
    body: ApiKeyCreate,
    principal: ShopOwner,
    session: DbSession,
    container: AppContainer,
) -> ApiKeyCreated:
    api_key, secret = await container.accounts.create_api_key(
        session, shop_id=shop_id, name=body.name, actor_id=_actor(principal)
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=secret)


@router.delete("/shops/{shop_id}/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(
    shop_id: uuid.UUID,
    key_id: uuid.UUID,
    principal: ShopOwner,
    session: DbSession,
    container: AppContainer,
) -> Response:
    await container.accounts.revoke_api_key(
        session, shop_id=shop_id, key_id=key_id, actor_id=_actor(principal)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/whoami", response_model=dict[str, object])
async def whoami(principal: Caller) -> dict[str, object]:
    """Who the credentials belong to: a user, or a shop's API key (for server-to-server checks)."""
    return {
        "kind": principal.kind,
        "user_id": str(principal.user_id) if principal.user_id else None,
        "roles": principal.roles,
        "shop_ids": [str(s) for s in principal.shop_roles],
    }


def _actor(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden("This needs a signed-in person, not an API key.")
    user_id: uuid.UUID = principal.user_id
    return user_id
