"""JupyterHub 6.1 for a class on one server (a lab machine, a small cloud server).

Run it on the server from the repository root, as root (JupyterHub starts each student's
server as that student's Unix account), in one Python environment that has the course
(``pip install -r requirements.txt``) and the Hub (``pip install -r deploy/requirements-hub.txt``),
with configurable-http-proxy on PATH (``npm ci --prefix deploy/proxy``, then add
``deploy/proxy/node_modules/.bin`` to PATH; Node 20 or later)::

    jupyterhub -f deploy/jupyterhub_config.py

Students open ``http://SERVER:8000`` (put HTTPS in front of it, or set ``ssl_cert`` and
``ssl_key`` below) and get JupyterLab in their home folder. Hand out the notebooks with an
nbgitpuller link (nbgitpuller comes with requirements.txt); it clones the repository into
the student's home on the first click and merges the teacher's later commits without
overwriting the student's own changes::

    http://SERVER:8000/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2FOWNER%2Fdip-teach-student&branch=main&urlpath=lab%2Ftree%2Fdip-teach-student%2F00_welcome.ipynb

(a student-copy repository made from ``make student``). For more than one server's worth
of students use Zero to JupyterHub on Kubernetes instead: ``deploy/config.yaml``.

``tests/test_hub.py`` starts a Hub from this very file (with the dummy login and one folder
per student on loopback) and runs a class through it; ``benchmarks/hub_class.py`` measures
one. The figures behind the numbers below are in the README, "Sizing a Hub".
"""
import sys

c = get_config()  # noqa: F821  (JupyterHub provides get_config when it loads this file)

# --- Who may log in ----------------------------------------------------------------------
# JupyterHub's default authenticator is PAM: the server's own Unix accounts and passwords.
# Name the students (or a group) and the teachers; a teacher is an admin of the Hub.
c.Authenticator.allowed_users = set()          # e.g. {"ada", "alan"}; or allowed_groups with PAM
c.Authenticator.admin_users = set()            # e.g. {"teacher"}
# Students without Unix accounts: `pip install jupyterhub-nativeauthenticator`, then they
# sign up and a teacher approves them at /hub/authorize:
# c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
# A workshop with one password for everyone (a teacher logs in with admin_password):
# c.JupyterHub.authenticator_class = "shared-password"
# c.SharedPasswordAuthenticator.user_password = "at least eight characters"
# Only to try the Hub on your own machine (anyone gets in with any password; one folder
# per user under /tmp, no isolation between users): never on a server others can reach.
# c.JupyterHub.authenticator_class = "dummy"
# c.JupyterHub.spawner_class = "simple"

# --- Where it listens ----------------------------------------------------------------------
c.JupyterHub.bind_url = "http://:8000"
# c.JupyterHub.ssl_cert = "/etc/letsencrypt/live/SERVER/fullchain.pem"
# c.JupyterHub.ssl_key = "/etc/letsencrypt/live/SERVER/privkey.pem"

# --- Each student's server -----------------------------------------------------------------
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # One torch thread per kernel. Students on one server share its cores, and a fit
    # whose threads outnumber the cores it really gets runs several times slower (the
    # OpenMP threads wait for each other); with one thread each, N fits on N cores run
    # at nearly N times one fit's speed. Measured by benchmarks/hub_class.py (README,
    # "Sizing a Hub"). A server with a core per student to spare may raise it.
    "DIP_TEACH_THREADS": "1",
}
# Per-student memory and CPU. The default spawner (one process per Unix user) does not
# enforce them; jupyterhub-systemdspawner does (c.JupyterHub.spawner_class = "systemdspawner"),
# as The Littlest JupyterHub does. A kernel of the course peaks near 0.8 GiB with its server:
c.Spawner.mem_guarantee = "1G"
c.Spawner.mem_limit = "2G"
c.Spawner.cpu_guarantee = 1
c.Spawner.cpu_limit = 2

# --- Idle culling --------------------------------------------------------------------------
# JupyterHub's own culler stops a server (and its kernels, with their memory) after an hour
# without activity; the student's files stay. `pip install jupyterhub-idle-culler`
# (in deploy/requirements-hub.txt).
c.JupyterHub.services = [
    {
        "name": "jupyterhub-idle-culler-service",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "jupyterhub-idle-culler-role",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["jupyterhub-idle-culler-service"],
    }
]
