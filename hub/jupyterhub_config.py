"""JupyterHub for a workshop room (started by ``python -m helpers.infra.hub start``, which sets DMAC_HUB_SETTINGS).

Accounts: PAM, i.e. the Unix accounts the hub created, each with its own printed password (see INSTRUCTORS.md
for why not a shared password). Servers: ``helpers.infra.hub_spawner.CourseSpawner``, one rootless Docker daemon and
one cgroup per learner. Idle servers are culled by jupyterhub-idle-culler, which stops their daemon too.
"""

# ruff: noqa: F821  (`c` is JupyterHub's config object, given to this file)
import sys

from helpers.infra import hub, hub_spawner, netns

settings = hub.load()
venv = str(hub.VENV)

# HTTPS on every interface with the room CA's certificate (helpers.infra.hub_tls); plain HTTP only on loopback (TLS=0)
c.JupyterHub.ip = "0.0.0.0" if settings.tls else "127.0.0.1"
c.JupyterHub.port = settings.port
# The hub's API on the host's dummy interface of helpers.infra.netns: every learner's server, in a network namespace of
# its own (F5), calls back to it there; the proxy reaches each server on its namespace's address
c.JupyterHub.hub_ip = netns.HUB_ADDRESS
c.JupyterHub.hub_port = settings.port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.port + 2}"
c.ConfigurableHTTPProxy.command = [str(hub.PROXY)]
c.JupyterHub.db_url = f"sqlite:///{settings.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(settings.state / "cookie_secret")
c.JupyterHub.pid_file = str(settings.state / "jupyterhub.pid")
if settings.tls:
    c.JupyterHub.ssl_cert = str(settings.tls_folder / "hub.crt")
    c.JupyterHub.ssl_key = str(settings.tls_folder / "hub.key")
    c.JupyterHub.cookie_options = {"secure": True}

# Who may log in: the learners and the instructor (admin), with their Unix passwords.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login session manager needed: the hook makes /run/user/<uid>
c.Authenticator.allowed_users = {*settings.learners, settings.instructor}
c.Authenticator.allow_existing_users = False  # a former learner in the hub's database gets no login (F12)
# The instructor runs the room from the admin page (start, stop, add learners) but does not open a learner's
# server: a learner's server shares the hub's origin, and script a learner planted there would run with the
# instructor's cookies (F7). So no admin role (it holds access:servers), this one instead.
c.Authenticator.admin_users = set()

# Each learner's server: the shared environment, their own clone, their own daemon and cgroup.
c.JupyterHub.spawner_class = hub_spawner.CourseSpawner
c.Spawner.cmd = [f"{venv}/bin/jupyterhub-singleuser"]
c.Spawner.notebook_dir = "~/course/notebooks"
c.Spawner.default_url = "/lab"
# A learner's own Jupyter configuration and extensions are not loaded into their server (F7, F20): their
# server shares the hub's origin, and the instructor opens it from the admin page.
c.Spawner.disable_user_config = True
c.Spawner.pre_spawn_hook = hub_spawner.pre_spawn
c.Spawner.post_stop_hook = hub_spawner.post_stop
c.Spawner.start_timeout = 300  # a first spawn loads the base images into a fresh daemon
c.Spawner.http_timeout = 120
c.JupyterHub.concurrent_spawn_limit = 10

# The instructor's own server is not needed; the admin page lists, starts and stops the learners'.
# Services: the idle culler, and an admin token for scripts and the tests (in the state folder, mode 0600).
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={settings.cull_seconds}",
            f"--cull-every={max(10, min(300, settings.cull_seconds // 2))}",  # look at least twice per timeout
        ],
    },
    {"name": "dmac-admin", "api_token": settings.token_file.read_text().strip()},
]
c.JupyterHub.load_roles = [
    {
        "name": "instructor",
        "description": "Runs the room: the admin page, learners' accounts and servers, never inside a server",
        "scopes": ["admin-ui", "admin:users", "admin:servers", "list:users", "read:hub", "self"],
        "users": [settings.instructor],
    },
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    },
    {
        "name": "dmac-admin",
        "scopes": ["admin:users", "admin:servers", "list:users", "read:users", "read:servers", "read:hub"],
        "services": ["dmac-admin"],
    },
]
