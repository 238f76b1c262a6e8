"""Git over HTTP: each repository's content as a real bare repository on disk, served by git.

:mod:`simulator.git.repos` writes a repository's derived content (:mod:`simulator.content`)
into a bare repository with ``git fast-import`` the first time a client asks for it, and
checks that git computed the very ids the REST API reports. :mod:`simulator.git.http`
answers ``/scm/{projectKey}/{slug}.git/...`` with Bitbucket's authentication and permission
rules in front of ``git http-backend``, so the wire protocol (v0 and v2, shallow and partial
clones, gzip request bodies) is git's own.
"""

#: Where git over HTTP lives (context-relative), and the Basic challenge of its 401s.
SCM_PREFIX = "/scm/"
GIT_REALM = 'Basic realm="Atlassian Bitbucket"'
