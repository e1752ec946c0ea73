"""Real identity servers for the sign-in tests, started once per test session on free loopback
ports and stopped at its end: OpenLDAP's slapd (a private instance with its own cn=config,
seeded with slapadd) and an OpenID provider (npm's oidc-provider, run by tests/oidc/provider.mjs).

Each is seeded with people and groups (``DIRECTORY``, ``PROVIDER_ACCOUNTS``); a test changes
someone's groups with ``ldap_server.set_groups`` / ``openid_provider.set_groups``. Where slapd
or Node.js is missing the tests that need it are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "tests" / "oidc"
SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
LDAP_SCHEMAS = Path("/etc/ldap/schema")

BASE_DN = "dc=example,dc=org"
PEOPLE_DN = f"ou=people,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
LDAP_ADMIN_DN = f"cn=admin,{BASE_DN}"
LDAP_ADMIN_PASSWORD = "directory-admin-secret"
LDAP_SERVICE_DN = f"cn=portico,ou=services,{BASE_DN}"
LDAP_SERVICE_PASSWORD = "portico-bind-secret"

# The directory's people: uid -> (given name, surname, password, groups).
DIRECTORY = {
    "dora": ("Dora", "Directory", "dora-directory-password", ["portico-managers"]),
    "vic": ("Vic", "Viewer", "vic-directory-password", ["portico-viewers"]),
    "nora": ("Nora", "Nogroup", "nora-directory-password", ["canteen"]),
}
DIRECTORY_GROUPS = ("portico-managers", "portico-viewers", "portico-finance", "canteen")

OIDC_CLIENT_ID = "portico"
OIDC_CLIENT_SECRET = "portico-client-secret-for-tests"
# The provider's accounts: username -> claims, password and groups.
PROVIDER_ACCOUNTS = {
    "olga": {
        "password": "olga-provider-password",
        "email": "olga@example.org",
        "given_name": "Olga",
        "family_name": "Owner",
        "groups": ["portico-service-owners", "staff"],
    },
    "pam": {
        "password": "pam-provider-password",
        "email": "pam@example.org",
        "given_name": "Pam",
        "family_name": "Manager",
        "groups": ["Portico-Managers"],
    },
    "gus": {
        "password": "gus-provider-password",
        "email": "gus@example.org",
        "given_name": "Gus",
        "family_name": "Guest",
        "groups": ["staff"],
    },
}


def ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def unavailable(message: str):
    if ci():
        pytest.fail(f"CI is set and the sign-in tests cannot run: {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(ready, process: subprocess.Popen, what: str, log: Path, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start-up:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, requests.RequestException):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- slapd ------------------------------------------------------------------------------------


def _config_ldif(folder: Path) -> str:
    schemas = "".join(
        f"include: file://{LDAP_SCHEMAS / name}.ldif\n"
        for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {folder}/slapd.pid

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {BASE_DN}
olcRootDN: {LDAP_ADMIN_DN}
olcRootPW: {LDAP_ADMIN_PASSWORD}
olcDbDirectory: {folder}/data
olcDbMaxSize: 104857600
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"""


def _data_ldif() -> str:
    entries = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
        "o: Example Insurance\n",
        f"dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS_DN}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: ou=services,{BASE_DN}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {LDAP_SERVICE_DN}\nobjectClass: organizationalRole\n"
        f"objectClass: simpleSecurityObject\ncn: portico\nuserPassword: {LDAP_SERVICE_PASSWORD}\n",
    ]
    for uid, (given, surname, password, _groups) in DIRECTORY.items():
        entries.append(
            f"dn: uid={uid},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {given} {surname}\ngivenName: {given}\nsn: {surname}\n"
            f"mail: {uid}@example.org\nuserPassword: {password}\n"
        )
    for group in DIRECTORY_GROUPS:
        members = [uid for uid, person in DIRECTORY.items() if group in person[3]]
        # groupOfNames needs a member: the service account stands in for an empty group.
        member_dns = [f"uid={uid},{PEOPLE_DN}" for uid in members] or [LDAP_SERVICE_DN]
        entries.append(
            f"dn: cn={group},{GROUPS_DN}\nobjectClass: groupOfNames\ncn: {group}\n"
            + "".join(f"member: {dn}\n" for dn in member_dns)
        )
    return "\n".join(entries)


@dataclass
class LdapServer:
    uri: str

    def connection(self):
        import ldap

        connection = ldap.initialize(self.uri)
        connection.simple_bind_s(LDAP_ADMIN_DN, LDAP_ADMIN_PASSWORD)
        return connection

    def set_groups(self, uid: str, groups: list[str]) -> None:
        """Make ``uid`` a member of exactly ``groups`` among the directory's groups."""
        import ldap

        person = f"uid={uid},{PEOPLE_DN}".encode()
        connection = self.connection()
        try:
            for group in DIRECTORY_GROUPS:
                dn = f"cn={group},{GROUPS_DN}"
                (_, attrs), *_ = connection.search_s(dn, ldap.SCOPE_BASE, attrlist=["member"])
                members = set(attrs.get("member", []))
                wanted = (members | {person}) if group in groups else (members - {person})
                wanted = wanted or {LDAP_SERVICE_DN.encode()}
                if wanted != members:
                    connection.modify_s(dn, [(ldap.MOD_REPLACE, "member", sorted(wanted))])
        finally:
            connection.unbind_s()

    def reset(self) -> None:
        """Everyone back in the groups the directory was seeded with."""
        for uid, person in DIRECTORY.items():
            self.set_groups(uid, person[3])

    def settings(self) -> dict:
        """Portico's settings for signing in against this directory."""
        import ldap
        from django_auth_ldap.config import GroupOfNamesType
        from django_auth_ldap.config import LDAPSearch

        return {
            "LDAP_SERVER_URI": self.uri,
            "AUTH_LDAP_SERVER_URI": self.uri,
            "AUTH_LDAP_BIND_DN": LDAP_SERVICE_DN,
            "AUTH_LDAP_BIND_PASSWORD": LDAP_SERVICE_PASSWORD,
            "AUTH_LDAP_USER_SEARCH": LDAPSearch(PEOPLE_DN, ldap.SCOPE_SUBTREE, "(uid=%(user)s)"),
            "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(GROUPS_DN, ldap.SCOPE_SUBTREE, "(objectClass=*)"),
            "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(),
            # One by distinguished name, one by name: the map takes both.
            "LDAP_ROLE_MAP": {
                f"cn=portico-managers,{GROUPS_DN}": "Portfolio manager",
                "portico-viewers": "Viewer",
                "portico-finance": "Finance",
            },
        }


@pytest.fixture(scope="session")
def ldap_server():
    if not (SLAPD.exists() and SLAPADD.exists()):
        unavailable(f"{SLAPD} is missing: apt-get install --no-install-recommends slapd ldap-utils")
    folder = Path(tempfile.mkdtemp(prefix="portico-slapd-"))
    config, data = folder / "slapd.d", folder / "data"
    config.mkdir()
    data.mkdir()
    (folder / "config.ldif").write_text(_config_ldif(folder))
    (folder / "data.ldif").write_text(_data_ldif())
    for database, ldif in ((0, "config.ldif"), (1, "data.ldif")):
        subprocess.run(
            [SLAPADD, "-n", str(database), "-F", config, "-l", folder / ldif],
            check=True,
            capture_output=True,
        )
    port = free_port()
    uri = f"ldap://127.0.0.1:{port}/"
    log = folder / "slapd.log"
    with log.open("w") as output:
        # -d keeps slapd in the foreground, so it is this process that the fixture stops.
        process = subprocess.Popen(
            [SLAPD, "-h", uri, "-F", config, "-d", "0"], stdout=output, stderr=output
        )
    server = LdapServer(uri)

    def answers() -> bool:
        import ldap

        try:
            server.connection().unbind_s()
        except ldap.SERVER_DOWN:
            return False
        return True

    try:
        wait_until(answers, process, "slapd", log)
        yield server
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


# --- OpenID provider --------------------------------------------------------------------------


@dataclass
class OpenIdProvider:
    issuer: str
    config_path: Path

    def set_groups(self, username: str, groups: list[str]) -> None:
        config = json.loads(self.config_path.read_text())
        config["accounts"][username]["groups"] = groups
        self.config_path.write_text(json.dumps(config))

    def add_account(self, username: str, account: dict) -> None:
        config = json.loads(self.config_path.read_text())
        config["accounts"][username] = account
        self.config_path.write_text(json.dumps(config))

    def reset(self) -> None:
        """Everyone back as the provider was seeded (people added by a test removed)."""
        config = json.loads(self.config_path.read_text())
        config["accounts"] = PROVIDER_ACCOUNTS
        self.config_path.write_text(json.dumps(config))

    def settings(self) -> dict:
        """Portico's settings for signing in through this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_RP_CLIENT_ID": OIDC_CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": OIDC_CLIENT_SECRET,
            "OIDC_RP_SCOPES": "openid email profile groups",
            "OIDC_ROLE_MAP": {
                "portico-service-owners": "Service owner",
                "portico-managers": "Portfolio manager",
            },
        }


def _node_modules() -> None:
    """Install the provider's package from its lock file, once: parallel test processes wait
    for the one that installs (CI installs it before the tests)."""
    with open(Path(tempfile.gettempdir()) / "portico-test-oidc-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            return
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=PROVIDER_DIR,
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def openid_provider():
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("Node.js (node and npm) is missing: the test OpenID provider needs it")
    _node_modules()
    folder = Path(tempfile.mkdtemp(prefix="portico-oidc-"))
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    callback = "/login/sso/callback/"
    config_path = folder / "provider.json"
    config_path.write_text(
        json.dumps(
            {
                "issuer": issuer,
                "port": port,
                "clients": [
                    {
                        "client_id": OIDC_CLIENT_ID,
                        "client_secret": OIDC_CLIENT_SECRET,
                        # Django's test client, and the browser tests' live server on
                        # whichever port it takes.
                        "redirect_uris": [
                            f"http://testserver{callback}",
                            f"http://127.0.0.1{callback}",
                            f"http://localhost{callback}",
                        ],
                    }
                ],
                "accounts": PROVIDER_ACCOUNTS,
            }
        )
    )
    log = folder / "provider.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["node", PROVIDER_DIR / "provider.mjs", config_path],
            stdout=output,
            stderr=output,
            cwd=PROVIDER_DIR,
        )
    provider = OpenIdProvider(issuer, config_path)

    def answers() -> bool:
        url = f"{issuer}/.well-known/openid-configuration"
        return requests.get(url, timeout=2).status_code == 200

    try:
        wait_until(answers, process, "the OpenID provider", log)
        yield provider
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


# --- Portico pointed at them, for one test ----------------------------------------------------


@pytest.fixture
def directory(ldap_server, settings):
    """Portico signing in against the directory, seeded as at the start."""
    ldap_server.reset()
    for name, value in ldap_server.settings().items():
        setattr(settings, name, value)
    return ldap_server


@pytest.fixture
def identity_provider(openid_provider, settings):
    """Portico signing in through the OpenID provider, seeded as at the start."""
    from core import signin

    openid_provider.reset()
    for name, value in openid_provider.settings().items():
        setattr(settings, name, value)
    signin.forget_provider_metadata()
    yield openid_provider
    signin.forget_provider_metadata()
