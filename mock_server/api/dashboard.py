"""The dashboard's routes (``/_mock/ui``), whose handlers load it on their first request.

The dashboard's code (``ui/pages.py``, ``ui/render.py``, ``service/views.py``) is a
tenth of what building an app imports, and an in-process fake per test (the pytest
plugin) never serves a page: the app's route table names these handlers, and each
imports the dashboard when it is first called.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def page(request: Request) -> Response:
    from mock_server.api.ui import pages  # on first use: see the module's docstring

    return await pages.page(request)


async def state(request: Request) -> Response:
    from mock_server.api.ui import pages  # on first use: see the module's docstring

    return await pages.state(request)


async def asset(request: Request) -> Response:
    from mock_server.api.ui import pages  # on first use: see the module's docstring

    return await pages.asset(request)


routes = [
    Route("/ui", page, methods=["GET"]),
    Route("/ui/state", state, methods=["GET"]),
    Route("/ui/static/{name}", asset, methods=["GET"]),
]
