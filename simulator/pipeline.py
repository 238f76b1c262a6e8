"""The one middleware every request goes through, its stages in order.

0. the body is read within ``connection_timeout`` (:func:`simulator.network.read_body`);
   a late one is answered 408 and its connection closed;
1. the state file is saved after the answer (with ``--state-file``);
2. the exchange is recorded in the journal (not the control API's own);
3. ``X-AREQUESTID`` and the user headers are stamped on the answer;
4. errors become Bitbucket's envelope (:func:`simulator.errors.error_answer`);
5. an injected fault answers or delays (not on the control API);
6. below 7.21 every OAuth 2 path is a 404;
7. the principal is resolved (:func:`simulator.auth.authenticate`), which may end the
   request (an OAuth 1 problem, a 2FA block);
8. the page frame is set up where the path answers pages; then the handler runs.

One middleware rather than eight: the context-relative path is worked out once and kept on
the request (:data:`simulator.journal.app_path_key`), and a request crosses two coroutine
frames instead of eight, which is most of what the simulator costs per request over a bare
aiohttp app (``bench/throughput.py`` measures it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from simulator.auth import authenticate, stamp_headers
from simulator.errors import Handler, NotFoundError, error_answer
from simulator.faults import apply_fault
from simulator.git import GIT_REALM, SCM_PREFIX
from simulator.journal import app_path_key, is_control_path, recorded, relative_path
from simulator.network import read_body
from simulator.store import Store
from simulator.web.layout import using
from simulator.web.middleware import layout_for

if TYPE_CHECKING:
    from simulator.persistence import StateFile

#: Paths that exist only where the OAuth 2 provider does (7.21 and later).
OAUTH2_PREFIXES = ("/rest/oauth2/", "/plugins/servlet/oauth2/")


def make_pipeline(store: Store, state: StateFile | None = None) -> Any:
    """The middleware of :func:`simulator.app.create_app`."""
    context = store.settings.context_path
    journal, plan, now = store.journal, store.faults, store.clock.now
    timeout = store.settings.connection_timeout

    async def respond(
        request: web.Request, handler: Handler, path: str, unread: Exception | None
    ) -> web.StreamResponse:
        """Stages 3 to 8, in one frame; ``unread`` is why the body could not be read."""
        request_id = store.next_request_id()
        try:
            try:
                if unread is not None:
                    raise unread
                if not is_control_path(path):
                    injected = await apply_fault(plan, path)
                    if injected is not None:
                        return _stamped(request, injected, request_id)
                if path.startswith(OAUTH2_PREFIXES) and not store.config.version.supports_oauth2:
                    raise NotFoundError(request.path)
                response = await authenticate(request, store, path)
                if response is None:
                    layout = layout_for(request, store, path)
                    if layout is None:
                        response = await handler(request)
                    else:
                        with using(layout):
                            response = await handler(request)
            except Exception as exc:
                answer = error_answer(request, exc)
                if answer is None:
                    raise
                response = answer
        except web.HTTPException as exc:
            stamp_headers(request, exc.headers, request_id)
            raise
        if response.status == 401 and path.startswith(SCM_PREFIX):
            # Wrong credentials on a git path: the challenge makes git ask again.
            response.headers.setdefault("WWW-Authenticate", GIT_REALM)
        return _stamped(request, response, request_id)

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = relative_path(request.path, context)
        request[app_path_key] = path
        try:
            # git bodies (pushes) may exceed client_max_size: simulator.git.http reads them.
            unread = None if path.startswith(SCM_PREFIX) else await read_body(request, timeout)
            if is_control_path(path):
                return await respond(request, handler, path, unread)
            return await recorded(
                journal,
                now,
                request,
                lambda request: respond(request, handler, path, unread),
                read_form=unread is None,
            )
        finally:
            if state is not None:
                state.save(store)

    return pipeline


def _stamped(
    request: web.Request, response: web.StreamResponse, request_id: str
) -> web.StreamResponse:
    stamp_headers(request, response.headers, request_id)
    return response
