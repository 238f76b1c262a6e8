"""After the login: the webhooks an integration sets up (``features/after-login/``).

Private Packagist's documentation: given a credential that may, it "will automatically set up
a webhook" per repository and updates the package on each push; without one it polls. The
harness gives the integration a personal access token (its "code credential"), then reads
Bitbucket's webhook REST API for what the integration created, pushes and deletes tags through
the simulator's control API, lets Bitbucket deliver (``POST /_sim/webhooks/settle``, no
sleeps), and forges deliveries that must be ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from conformance.context import ADMIN_USERNAME, FeatureFileError, ScenarioContext
from conformance.steps import expect, given, then, when
from conformance.steps.after_login import (
    RepoKey,
    administered_repositories,
    granted_repositories,
    push_tag,
    refs_of,
)
from conformance.steps.common import bitbucket_pages, bitbucket_request
from conformance.sut import DriverError, Hooked
from conformance.wire import CHECK_USER_AGENT

REFS_CHANGED = "repo:refs_changed"
#: The permission the harness's code credential carries: what repository webhooks need.
CODE_CREDENTIAL_PERMISSIONS = ("REPO_ADMIN",)
#: How long the harness lets Bitbucket's deliveries settle.
SETTLE_SECONDS = 20


def _repo_path(repo: RepoKey) -> str:
    return f"/rest/api/1.0/projects/{repo[0]}/repos/{repo[1]}"


def hooks_of(ctx: ScenarioContext, repo: RepoKey) -> list[dict[str, Any]]:
    """The webhooks of ``repo`` (its own, then its project's), as its admin reads them."""
    own = bitbucket_pages(ctx, ADMIN_USERNAME, _repo_path(repo) + "/webhooks", {"limit": "100"})
    project = bitbucket_pages(
        ctx, ADMIN_USERNAME, f"/rest/api/1.0/projects/{repo[0]}/webhooks", {"limit": "100"}
    )
    return [{**hook, "scope": "repository"} for hook in own] + [
        {**hook, "scope": "project"} for hook in project
    ]


def _listening(hooks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [hook for hook in hooks if hook.get("active") and REFS_CHANGED in hook["events"]]


def _describe_hooks(hooks: list[dict[str, Any]]) -> str:
    if not hooks:
        return "no webhooks"
    return "; ".join(
        f"{h['scope']} webhook {h['name']!r} to {h['url']} on {', '.join(h['events'])}"
        f"{'' if h.get('active') else ' (inactive)'}"
        for h in hooks[:6]
    )


def packaged_repositories(ctx: ScenarioContext, username: str) -> list[RepoKey]:
    """The repositories ``username`` administers that have a composer.json on a branch."""
    chosen = []
    readable = set(granted_repositories(ctx, username))
    for repo in administered_repositories(ctx, username):
        if repo in readable and any(ref.package for ref in refs_of(ctx, username, repo, "BRANCH")):
            chosen.append(repo)
    if not chosen:
        raise FeatureFileError(f"{username!r} administers no repository with a composer.json")
    return chosen


def _deliveries_text(ctx: ScenarioContext, since: int) -> str:
    rows = ctx.sim.webhook_deliveries(since=since)
    if not rows:
        return "Bitbucket sent no webhook delivery"
    return "Bitbucket's deliveries: " + "; ".join(
        f"{row['event']} to {row['url']}: {row['state']}"
        + (f" {row['statusCode']}" if row["statusCode"] is not None else "")
        + (f" ({row['error']})" if row["error"] else "")
        + (f", answered {row['answer'][:120]!r}" if row["answer"] else "")
        for row in rows[-6:]
    )


# -- steps -----------------------------------------------------------------------------------


@given('the integration holds a code credential of "{username}" with repository admin permission')
def integration_holds_code_credential(ctx: ScenarioContext, username: str) -> None:
    """Creates a personal access token of ``username`` with REPO_ADMIN (what repository
    webhooks need, no more) and gives it to the integration (``POST /code-credentials``)."""
    slug = username.replace("@", "_").lower()
    status, body = bitbucket_request(
        ctx,
        username,
        "PUT",
        f"/rest/access-tokens/1.0/users/{slug}",
        body={"name": "code credential", "permissions": list(CODE_CREDENTIAL_PERMISSIONS)},
    )
    expect(
        status in (200, 201) and isinstance(body, dict) and "token" in body,
        f"Bitbucket to create a personal access token for {username}",
        f"HTTP {status}: {body!r}",
    )
    sut = ctx.sut
    if not isinstance(sut, Hooked):
        raise DriverError("add_code_credential()", "the SUT's driver takes no code credential")
    sut.add_code_credential(username, str(body["token"]))
    ctx.notes["code_credential"] = username


@given('Bitbucket\'s time zone is "{offset}"')
def bitbucket_time_zone(ctx: ScenarioContext, offset: str) -> None:
    """Sets the server's offset from UTC (``-08:00``), the zone webhook payloads date in."""
    ctx.sim.patch_config({"time_zone": offset})


@given("Bitbucket's deliveries to the integration fail")
def deliveries_fail(ctx: ScenarioContext) -> None:
    """Every delivery to the integration's webhooks is recorded as a connection failure and
    not sent (a delivery fault), so only what the scenario forges reaches the integration."""
    username = str(ctx.notes.get("code_credential", "alice"))
    urls = {
        str(hook["url"])
        for repo in packaged_repositories(ctx, username)
        for hook in _listening(hooks_of(ctx, repo))
    }
    expect(
        urls,
        f"webhooks of the integration on the repositories {username!r} administers",
        "there are none to make fail",
    )
    for url in sorted(urls):
        ctx.sim.add_webhook_fault(url, error="connection refused (the scenario forges one)")


@when('a tag "{tag}" is pushed to a repository "{username}" administers that has a composer.json')
def tag_pushed_to_administered(ctx: ScenarioContext, tag: str, username: str) -> None:
    """Tags the default branch of a repository ``username`` administers that has a
    composer.json (the change a push makes), so that its webhooks fire."""
    ctx.notes["deliveries_mark"] = _last_delivery(ctx)
    push_tag(ctx, username, tag, packaged_repositories(ctx, username))


@when("the tag is deleted on Bitbucket")
def new_tag_deleted(ctx: ScenarioContext) -> None:
    """Deletes the tag pushed earlier in the scenario (as a push deleting it)."""
    ref = ctx.notes["new_tag"]
    ctx.notes["deliveries_mark"] = _last_delivery(ctx)
    ctx.sim.delete_tag(ref.repo[0], ref.repo[1], ref.name)
    ctx.notes["deleted_tag"] = ref


def _last_delivery(ctx: ScenarioContext) -> int:
    return max((int(row["id"]) for row in ctx.sim.webhook_deliveries()), default=0)


@when("Bitbucket has delivered its webhooks")
def bitbucket_delivered(ctx: ScenarioContext) -> None:
    """Waits until Bitbucket's queued deliveries have been answered (or failed)."""
    answer = ctx.sim.settle_webhooks(SETTLE_SECONDS)
    expect(
        answer.get("settled"),
        f"Bitbucket's deliveries to settle within {SETTLE_SECONDS} s",
        f"{answer.get('pending')} still pending; "
        + _deliveries_text(ctx, ctx.notes.get("deliveries_mark", 0)),
        "the integration's receiver must answer within Bitbucket's timeout",
    )


@when("a delivery of that push reaches the integration with a wrong signature")
def forged_with_wrong_signature(ctx: ScenarioContext) -> None:
    """Sends the push's genuine payload to the integration's webhook URL, signed with a
    secret that is not the webhook's."""
    _forge(ctx, lambda body: "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest())


@when("a delivery of that push reaches the integration without a signature")
def forged_without_signature(ctx: ScenarioContext) -> None:
    """Sends the push's genuine payload to the integration's webhook URL, unsigned."""
    _forge(ctx, lambda body: None)


def _forge(ctx: ScenarioContext, signature: Any) -> None:
    ref = ctx.notes["new_tag"]
    since = ctx.notes.get("deliveries_mark", 0)
    rows = [
        row
        for row in ctx.sim.webhook_deliveries(since=since)
        if row["event"] == REFS_CHANGED
        and row["payload"].get("repository", {}).get("slug") == ref.repo[1]
    ]
    expect(
        rows,
        f"Bitbucket to have tried delivering the push to {ref.repo[0]}/{ref.repo[1]}'s webhook",
        _deliveries_text(ctx, since),
    )
    row = rows[-1]
    body = json.dumps(row["payload"], separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Event-Key": REFS_CHANGED,
        "X-Request-Id": str(uuid.uuid4()),
        "User-Agent": CHECK_USER_AGENT,
    }
    signed = signature(body)
    if signed is not None:
        headers["X-Hub-Signature"] = signed
    request = urllib.request.Request(  # noqa: S310 - the integration's own receiver
        row["url"], data=body, headers=headers, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        raise FeatureFileError(
            f"the integration's webhook URL {row['url']} is unreachable: {error}"
        ) from None
    ctx.notes["forged_status"] = status


@then('the integration has a webhook on each repository "{username}" administers with packages')
def webhook_on_each_repository(ctx: ScenarioContext, username: str) -> None:
    """Asserts each repository ``username`` administers that has a composer.json has an active
    webhook (its own or its project's) on ``repo:refs_changed``."""
    hooked: dict[RepoKey, list[dict[str, Any]]] = {}
    missing = []
    for repo in packaged_repositories(ctx, username):
        hooks = hooks_of(ctx, repo)
        listening = _listening(hooks)
        if listening:
            hooked[repo] = listening
        else:
            missing.append(f"{repo[0]}/{repo[1]}: {_describe_hooks(hooks)}")
    ctx.notes["hooked"] = hooked
    expect(
        not missing,
        f"an active webhook on {REFS_CHANGED} for each repository {username!r} administers "
        "with a composer.json (created with the code credential)",
        "; ".join(missing[:6]),
        "create one per repository with POST /rest/api/1.0/projects/{key}/repos/{slug}/webhooks",
    )


@then("each of its webhooks is the repository's, on repository events only")
def webhooks_ask_no_more(ctx: ScenarioContext) -> None:
    """Asserts the integration's webhooks are repository webhooks (a project webhook needs
    PROJECT_ADMIN) subscribed to ``repo:refs_changed`` and to no event outside ``repo:``."""
    wrong = []
    for repo, hooks in ctx.notes["hooked"].items():
        for hook in hooks:
            extra = [event for event in hook["events"] if not event.startswith("repo:")]
            if hook["scope"] != "repository" or extra:
                wrong.append(f"{repo[0]}/{repo[1]}: {_describe_hooks([hook])}")
    expect(
        not wrong,
        "repository webhooks on repository events (what a package update needs)",
        "; ".join(wrong[:6]),
    )


@then("Bitbucket's delivery to the integration succeeded")
def delivery_succeeded(ctx: ScenarioContext) -> None:
    """Asserts Bitbucket's last delivery of the change was answered with a 2xx."""
    since = ctx.notes.get("deliveries_mark", 0)
    rows = [row for row in ctx.sim.webhook_deliveries(since=since) if row["event"] == REFS_CHANGED]
    expect(
        rows and all(row["state"] == "SUCCESS" for row in rows),
        "the integration's receiver to answer Bitbucket's deliveries with a 2xx",
        _deliveries_text(ctx, since),
    )
