"""HTTPS in front of a data server (notebook 16): Debian's nginx as a TLS reverse proxy for notebook 15's Tomcat,
with a certificate from a course CA made for the demonstration.

The pitfall it shows is the one ERDDAP and THREDDS operators meet: behind a proxy, the server builds its own links
(``request.getRequestURL()``) from what the proxy tells it. Without the ``Host`` and ``X-Forwarded-Proto``
headers, a page served over HTTPS links to ``http://<backend>:8080/…``. Tomcat's ``RemoteIpValve`` reads
``X-Forwarded-Proto`` (ERDDAP's and THREDDS's set-up guides configure it, or the connector's ``scheme``/``proxyName``).
"""

from __future__ import annotations

from pathlib import Path

from ..core import course, images, wait
from ..core.shell import CommandFailed, docker_out
from . import javaserver

SITE = "data.dmac.test"
"""The server's name in its certificate (``.test`` is reserved for tests: it never resolves on the internet)."""
CERTS = "/certs"

PROXY_DOCKERFILE = """
FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends nginx openssl curl ca-certificates \\
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80 443
CMD ["nginx", "-g", "daemon off;"]
"""

# Tomcat behind a proxy: the RemoteIpValve takes the scheme from X-Forwarded-Proto (from the proxies it trusts:
# private addresses by default, as a container network's are), as ERDDAP's and THREDDS's guides set it up.
TOMCAT_DOCKERFILE = """
FROM {base}
USER root
RUN sed -i 's|</Host>|  <Valve className="org.apache.catalina.valves.RemoteIpValve" \\
protocolHeader="X-Forwarded-Proto"/>\\n      </Host>|' /etc/tomcat10/server.xml
COPY links.jsp /var/lib/tomcat10/webapps/dmac/links.jsp
USER tomcat
"""

LINKS_JSP = """<%@ page contentType="text/plain; charset=UTF-8" %><%
out.println("scheme: " + request.getScheme() + ", secure: " + request.isSecure());
out.println("link to this page: " + request.getRequestURL());
%>
"""

# The course CA and a certificate for SITE signed by it, made with openssl in a throwaway container into a volume.
CERT_SCRIPT = f"""set -e
cd {CERTS}
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=DMAC course CA (demonstration)" \\
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN={SITE}" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:{SITE}\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile server.ext \\
  -out server.crt 2>/dev/null
rm server.csr server.ext ca.srl
chmod 644 server.crt ca.crt && chmod 600 ca.key server.key
ls {CERTS}
"""

REDIRECT = f"""server {{
    listen 80;
    server_name {SITE};
    return 301 https://$host$request_uri;
}}
"""


def site_conf(backend: str, *, headers: bool) -> str:
    """nginx's site: plain HTTP redirects to HTTPS, HTTPS goes to ``backend``'s port 8080; ``headers`` passes the
    client's host name and scheme on (without them the backend sees only the proxy's own request)."""
    passed = "        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-Proto $scheme;\n"
    return REDIRECT + f"""
server {{
    listen 443 ssl;
    server_name {SITE};
    ssl_certificate     {CERTS}/server.crt;
    ssl_certificate_key {CERTS}/server.key;
    location / {{
        proxy_pass http://{backend}:{javaserver.PORT};
{passed if headers else ""}    }}
}}
"""


def proxy_ref() -> str:
    return course.image("proxy", "1")


def tomcat_ref() -> str:
    return course.image("tomcat-proxied", "1")


def build(**kwargs) -> None:
    """Build the proxy and the proxied Tomcat (on notebook 15's image, built first if missing; all cached)."""
    images.build(proxy_ref(), images.context("proxy", {"Dockerfile": PROXY_DOCKERFILE}), **kwargs)
    images.build(javaserver.image_ref(), javaserver.context(), **kwargs)
    files = {"Dockerfile": TOMCAT_DOCKERFILE.format(base=javaserver.image_ref()), "links.jsp": LINKS_JSP}
    images.build(tomcat_ref(), images.context("tomcat-proxied", files), **kwargs)


def conf_folder(name: str) -> Path:
    """A folder of nginx site configuration for this namespace (``build/<ns>/ops/<name>``), mounted at
    ``/etc/nginx/conf.d``."""
    return course.workdir("ops", name)


def curl(container: str, url: str, *options: str) -> str:
    """``curl`` run inside ``container`` with the course CA, ``SITE`` resolved to the container itself: what a
    browser that trusts the CA gets. Returns the body, or the status line and Location with ``-I``."""
    resolve = ("--resolve", f"{SITE}:443:127.0.0.1", "--resolve", f"{SITE}:80:127.0.0.1")
    try:
        return docker_out("exec", container, "curl", "-sS", "--max-time", "10", "--cacert", f"{CERTS}/ca.crt",
                          *resolve, *options, url)
    except CommandFailed as exc:
        return f"curl failed: {str(exc).strip().splitlines()[-1][:160]}"


def page_link(container: str) -> str:
    """The link the Tomcat page builds for itself, asked over HTTPS through the proxy in ``container``."""
    body = curl(container, f"https://{SITE}/dmac/links.jsp")
    for line in body.splitlines():
        if line.startswith("link to this page: "):
            return line.split(": ", 1)[1].strip()
    return body.strip()[:160]


def answered_link(container: str, *, timeout: float = 15) -> str:
    """:func:`page_link`, asked until the proxy answers (a container just started: nginx not listening yet)."""

    def answered() -> str | None:
        link = page_link(container)
        return None if link.startswith("curl failed") else link

    try:
        return wait.until(answered, f"{container}'s answer", timeout=timeout)
    except wait.WaitTimeout:
        return page_link(container)


def wait_link(container: str, start: str, *, timeout: float = 20) -> str:
    """Until the page's link through ``container`` starts with ``start`` (nginx's reloaded workers take over)."""

    def reloaded() -> str | None:
        link = page_link(container)
        return link if link.startswith(start) else None

    return wait.until(reloaded, "the reloaded proxy", timeout=timeout)


def redirect(container: str) -> str:
    """Where plain HTTP sends a client: ``301 https://…``, or what it answered instead."""
    head = curl(container, f"http://{SITE}/dmac/links.jsp", "-I")
    status = head.splitlines()[0].split(" ", 2)[1] if head.startswith("HTTP/") else head[:80]
    fields = [line.split(":", 1) for line in head.splitlines() if ":" in line]
    location = next((value.strip() for key, value in fields if key.lower() == "location"), "")
    return f"{status} {location}".strip()
