"""Every route of Bitbucket's REST APIs the simulator serves.

``application-properties`` is served by its handler directly (it is what a client asks
first); every other area's handlers are :func:`~simulator.lazy.lazy`, so their modules (and
the content and archive code behind them) are imported on their first request.
"""

from __future__ import annotations

from aiohttp import web

from simulator.lazy import lazy
from simulator.rest import REPO_PATH, api_routes, properties

#: Bitbucket's servlet naming the caller (served with the users).
WHOAMI_PATH = "/plugins/servlet/applinks/whoami"
#: The personal access token REST, beside the API's own prefixes.
ACCESS_TOKEN_PREFIXES = ("/rest/access-tokens/1.0", "/rest/access-tokens/latest")

_PERMISSIONS = "simulator.rest.permissions:"
_AVATARS = "simulator.rest.avatars:"
#: Where ``avatarUrl`` points: the web paths beside the REST ones.
AVATAR_PAGES = (
    ("/users/{userSlug}/avatar.png", _AVATARS + "get_user_avatar"),
    ("/projects/{projectKey}/avatar.png", _AVATARS + "get_project_avatar"),
)
#: (method, path under /rest/api/{1.0,latest}, handler as module:function)
API: tuple[tuple[str, str, str], ...] = (
    ("GET", "/users", "simulator.rest.users:get_users"),
    ("GET", "/users/{userSlug}", "simulator.rest.users:get_user"),
    ("GET", "/projects", "simulator.rest.projects:get_projects"),
    ("GET", "/projects/{projectKey}", "simulator.rest.projects:get_project"),
    ("GET", "/repos", "simulator.rest.repos:get_repositories"),
    ("GET", "/projects/{projectKey}/repos", "simulator.rest.repos:get_project_repositories"),
    ("GET", REPO_PATH, "simulator.rest.repos:get_repository"),
    ("GET", REPO_PATH + "/branches", "simulator.rest.refs:get_branches"),
    ("GET", REPO_PATH + "/branches/default", "simulator.rest.refs:get_default_branch_deprecated"),
    ("GET", REPO_PATH + "/default-branch", "simulator.rest.refs:get_default_branch"),
    ("GET", REPO_PATH + "/tags", "simulator.rest.refs:get_tags"),
    ("GET", REPO_PATH + "/tags/{name:.+}", "simulator.rest.refs:get_tag"),
    ("GET", REPO_PATH + "/commits", "simulator.rest.refs:get_commits"),
    ("GET", REPO_PATH + "/commits/{commitId}", "simulator.rest.refs:get_commit"),
    ("GET", REPO_PATH + "/raw", "simulator.rest.files:raw_without_path"),
    ("GET", REPO_PATH + "/raw/", "simulator.rest.files:raw_without_path"),
    ("GET", REPO_PATH + "/raw/{path:.+}", "simulator.rest.files:stream_raw"),
    ("GET", REPO_PATH + "/browse", "simulator.rest.files:get_content"),
    ("GET", REPO_PATH + "/browse/", "simulator.rest.files:get_content"),
    ("GET", REPO_PATH + "/browse/{path:.+}", "simulator.rest.files:get_content"),
    ("GET", REPO_PATH + "/files", "simulator.rest.files:stream_files"),
    ("GET", REPO_PATH + "/files/", "simulator.rest.files:stream_files"),
    ("GET", REPO_PATH + "/files/{path:.+}", "simulator.rest.files:stream_files"),
    ("GET", REPO_PATH + "/archive", "simulator.rest.files:get_archive"),
    ("GET", "/users/{userSlug}/avatar.png", _AVATARS + "get_user_avatar"),
    ("GET", "/projects/{projectKey}/avatar.png", _AVATARS + "get_project_avatar"),
    ("GET", "/projects/{projectKey}/permissions/users", _PERMISSIONS + "get_project_users"),
    ("PUT", "/projects/{projectKey}/permissions/users", _PERMISSIONS + "set_project_users"),
    ("DELETE", "/projects/{projectKey}/permissions/users", _PERMISSIONS + "revoke_project_user"),
    ("GET", REPO_PATH + "/permissions/users", _PERMISSIONS + "get_repo_users"),
    ("PUT", REPO_PATH + "/permissions/users", _PERMISSIONS + "set_repo_users"),
    ("DELETE", REPO_PATH + "/permissions/users", _PERMISSIONS + "revoke_repo_user"),
)

_HOOKS = "simulator.webhooks.rest:"


def _webhooks(base: str) -> tuple[tuple[str, str, str], ...]:
    """The webhook routes under ``base`` (``search`` and ``test`` before ``{webhookId}``)."""
    hook = base + "/webhooks/{webhookId}"
    return (
        ("GET", base + "/webhooks", _HOOKS + "find_webhooks"),
        ("POST", base + "/webhooks", _HOOKS + "create_webhook"),
        ("POST", base + "/webhooks/test", _HOOKS + "send_test_ping"),
        ("GET", hook, _HOOKS + "get_webhook"),
        ("PUT", hook, _HOOKS + "update_webhook"),
        ("DELETE", hook, _HOOKS + "delete_webhook"),
        ("GET", hook + "/latest", _HOOKS + "get_latest_invocation"),
        ("GET", hook + "/statistics", _HOOKS + "get_statistics"),
        ("GET", hook + "/statistics/summary", _HOOKS + "get_statistics_summary"),
    )


#: Repository and project webhooks (simulator.webhooks.rest), under /rest/api/{1.0,latest}.
WEBHOOKS: tuple[tuple[str, str, str], ...] = (
    ("GET", REPO_PATH + "/webhooks/search", _HOOKS + "search_webhooks"),
    *_webhooks(REPO_PATH),
    *_webhooks("/projects/{projectKey}"),
)

#: (method, path under /rest/access-tokens/{1.0,latest}, handler as module:function)
ACCESS_TOKENS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/users/{userSlug}", "simulator.rest.access_tokens:get_access_tokens"),
    ("PUT", "/users/{userSlug}", "simulator.rest.access_tokens:create_access_token"),
    ("GET", "/users/{userSlug}/{tokenId}", "simulator.rest.access_tokens:get_access_token"),
    ("POST", "/users/{userSlug}/{tokenId}", "simulator.rest.access_tokens:update_access_token"),
    ("DELETE", "/users/{userSlug}/{tokenId}", "simulator.rest.access_tokens:delete_access_token"),
)

_RESOURCE_TOKENS = "simulator.rest.resource_tokens:"


def _resource_tokens(base: str) -> tuple[tuple[str, str, str], ...]:
    """The project or repository token routes under ``base``."""
    return (
        ("GET", base, _RESOURCE_TOKENS + "get_resource_tokens"),
        ("PUT", base, _RESOURCE_TOKENS + "create_resource_token"),
        ("GET", base + "/{tokenId}", _RESOURCE_TOKENS + "get_resource_token"),
        ("POST", base + "/{tokenId}", _RESOURCE_TOKENS + "update_resource_token"),
        ("DELETE", base + "/{tokenId}", _RESOURCE_TOKENS + "delete_resource_token"),
    )


#: Project and repository tokens (simulator.rest.resource_tokens), beside the personal ones.
RESOURCE_TOKENS: tuple[tuple[str, str, str], ...] = (
    *_resource_tokens("/projects/{projectKey}"),
    *_resource_tokens("/projects/{projectKey}/repos/{repositorySlug}"),
)


def routes() -> list[web.RouteDef]:
    """All REST routes."""
    table = properties.routes()
    for method, path, target in API + WEBHOOKS:
        table += api_routes(method, path, lazy(target))
    table.append(web.get(WHOAMI_PATH, lazy("simulator.rest.users:whoami")))
    table += [web.get(path, lazy(target)) for path, target in AVATAR_PAGES]
    table.append(
        web.get("/rest/capabilities", lazy("simulator.rest.capabilities:get_capabilities"))
    )
    for version in ("1.0", "latest"):
        table.append(
            web.get(
                f"/rest/webhooks/{version}/capabilities",
                lazy("simulator.rest.capabilities:get_webhook_capabilities"),
            )
        )
    for version in ("1.0", "latest"):
        table.append(
            web.get(
                f"/rest/authconfig/{version}/login-options",
                lazy("simulator.rest.authconfig:get_login_options"),
            )
        )
    for method, path, target in ACCESS_TOKENS + RESOURCE_TOKENS:
        handler = lazy(target)
        table += [web.route(method, prefix + path, handler) for prefix in ACCESS_TOKEN_PREFIXES]
    return table
