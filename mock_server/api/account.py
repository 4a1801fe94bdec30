"""``GET /v1/credits``: a key's balance, as EvoLink's account API shows it.

The real answer is ``{"data": {"token": {"remaining_credits", "unlimited_credits",
"used_credits"}, "user": {"remaining_credits", "used_credits"}}, "message": "",
"success": true}`` (SOURCES.md "Contract and provider verification", [CREDITS]). In the
fake a key is its own user, so both parts show the key's ledger: remaining is what the
key may still reserve (reservations already deducted), used is what it was charged. It
lets any client, and the provider verifier, watch money move without the control API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.api.httpio import error_response, json_response
from mock_server.domain.billing import as_json_number
from mock_server.domain.errors import ApiError
from mock_server.service.fake import Fake


async def get_credits(request: Request) -> Response:
    fake: Fake = request.app.state.fake
    try:
        balance = fake.accounts.own_balance(request.headers.get("authorization"))
    except ApiError as error:
        return error_response(error)
    remaining = as_json_number(balance.available)
    used = as_json_number(balance.charged)
    return json_response(
        {
            "data": {
                "token": {
                    "remaining_credits": remaining,
                    "unlimited_credits": False,
                    "used_credits": used,
                },
                "user": {"remaining_credits": remaining, "used_credits": used},
            },
            "message": "",
            "success": True,
        }
    )


routes = [Route("/v1/credits", get_credits, methods=["GET"])]
