"""JSON shapes of Bitbucket's entities, exactly as the real REST API 1.0 renders them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from simulator.model import Project, Repository, User


def user_json(user: User, base_url: str, avatar_size: int | None = None) -> dict[str, Any]:
    """``RestApplicationUser``; ``avatarUrl`` (relative) only when an avatar size was asked."""
    body: dict[str, Any] = {
        "name": user.name,
        "emailAddress": user.email,
        "active": user.active,
        "displayName": user.display_name,
        "id": user.id,
        "slug": user.slug,
        "type": user.type,
        "links": {"self": [{"href": f"{base_url}/users/{user.slug}"}]},
    }
    if avatar_size is not None:  # relative, under the context path, as Bitbucket's
        context = urlsplit(base_url).path.rstrip("/")
        body["avatarUrl"] = f"{context}/users/{user.slug}/avatar.png?s={avatar_size}"
    return body


def project_json(project: Project, base_url: str, owner: User | None = None) -> dict[str, Any]:
    """``RestProject``; a personal project also carries its ``owner``."""
    path = f"/users/{project.owner}" if project.type == "PERSONAL" else f"/projects/{project.key}"
    body: dict[str, Any] = {
        "key": project.key,
        "id": project.id,
        "name": project.name,
        "public": project.public,
        "type": project.type,
        "links": {"self": [{"href": base_url + path}]},
    }
    if project.description:
        body["description"] = project.description
    if owner is not None:
        body["owner"] = user_json(owner, base_url)
    return body


def repository_json(repo: Repository, base_url: str, owner: User | None = None) -> dict[str, Any]:
    """``RestRepository`` with clone and self links."""
    project = repo.project
    browse = (
        f"/users/{project.owner}/repos/{repo.slug}/browse"
        if project.type == "PERSONAL"
        else f"/projects/{project.key}/repos/{repo.slug}/browse"
    )
    return {
        "slug": repo.slug,
        "id": repo.id,
        "name": repo.name,
        "description": repo.description,
        "hierarchyId": repo.hierarchy_id,
        "scmId": "git",
        "state": repo.state,
        "statusMessage": "Available" if repo.state == "AVAILABLE" else repo.state.title(),
        "forkable": repo.forkable,
        "project": project_json(project, base_url, owner),
        "public": repo.public,
        "archived": repo.archived,
        "links": {
            # Only the http link: the simulator serves git over HTTP, not SSH, and Bitbucket
            # leaves the ssh link out where SSH access is off.
            "clone": [
                {"href": f"{base_url}/scm/{project.key.lower()}/{repo.slug}.git", "name": "http"}
            ],
            "self": [{"href": base_url + browse}],
        },
    }
