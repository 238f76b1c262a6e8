"""Webhooks: Bitbucket's REST at repository and project level, and their deliveries.

- :mod:`.model`: the webhooks themselves (:class:`~.model.WebhookBackend`, on the store as
  ``store.webhooks``), their validation and their invocation history;
- :mod:`.rest`: the handlers of ``…/webhooks`` (REST API 1.0);
- :mod:`.targets`: where deliveries may go (loopback unless a setting allows more);
- :mod:`.payloads`: the bodies and headers Bitbucket sends;
- :mod:`.dispatch`: the delivery queue, off the request path;
- :mod:`.control`: ``/_sim/webhooks/…`` (the deliveries, settling, faults);
- :mod:`.pages`: the repository settings page that manages them.
"""

from __future__ import annotations

from simulator.version import BitbucketVersion

#: Webhooks exist from Bitbucket 5.4 (``shared/reference/bitbucket-dc.md``).
SINCE = BitbucketVersion(5, 4)
#: The repository settings page for webhooks (simulator.webhooks.pages).
SETTINGS_PAGE = "/plugins/servlet/webhooks/projects/{projectKey}/repos/{repositorySlug}"
REFS_CHANGED = "repo:refs_changed"
PING = "diagnostics:ping"
#: The events a webhook may subscribe to: the ``application-webhooks`` list a real
#: Bitbucket answers at ``/rest/webhooks/latest/capabilities`` (Atlassian's Jenkins plugin,
#: ``webhook-capabilities-response.json``), plus the keys of the "Event payload" pages that
#: list leaves out (``pr:from_ref_updated``, ``pr:to_ref_updated``, ``repo:secret_detected``).
EVENTS: tuple[str, ...] = (
    "mirror:repo_synchronized",
    "project:created",
    "project:deleted",
    "project:modified",
    "repo:created",
    "repo:forked",
    "repo:deleted",
    "repo:modified",
    REFS_CHANGED,
    "repo:default_branch_modified",
    "repo:comment:added",
    "repo:comment:edited",
    "repo:comment:deleted",
    "repo:secret_detected",
    "pr:opened",
    "pr:from_ref_updated",
    "pr:to_ref_updated",
    "pr:merged",
    "pr:declined",
    "pr:deleted",
    "pr:modified",
    "pr:reviewer:updated",
    "pr:reviewer:approved",
    "pr:reviewer:unapproved",
    "pr:reviewer:needs_work",
    "pr:comment:added",
    "pr:comment:edited",
    "pr:comment:deleted",
)
