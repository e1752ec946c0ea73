"""Portico settings: one module, every value from the environment (see .env.example)."""

import re
import zoneinfo
from pathlib import Path

import dj_database_url
import ldap
from csp.constants import NONE
from csp.constants import SELF
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap.config import ActiveDirectoryGroupType
from django_auth_ldap.config import GroupOfNamesType
from django_auth_ldap.config import GroupOfUniqueNamesType
from django_auth_ldap.config import LDAPSearch
from django_auth_ldap.config import NestedActiveDirectoryGroupType
from django_auth_ldap.config import NestedGroupOfNamesType
from django_auth_ldap.config import PosixGroupType
from kombu import Exchange
from kombu import Queue
from whitenoise.compress import Compressor

from core.roles import ROLES
from portico import env

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env.string("SECRET_KEY")
DEBUG = env.boolean("DEBUG", False)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [])

if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY must be at least 50 characters of 5 or more distinct ones when DEBUG is false."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Its index expressions (OpClass) for the trigram search indexes (core.search).
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_celery_beat",
    "axes",
    "csp",
    "core",
    "portfolio",
    "finance",
    "valuestreams",
    "maturity",
    "cloud",
    "ledger",
    "people",
    "performance",
    "notifications",
    "attestation",
    "imports",
    "customfields",
    "budgets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.RefuseNullCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.ChangeContextMiddleware",
    "core.middleware.VaryOnHtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portico.urls"
WSGI_APPLICATION = "portico.wsgi.application"
ASGI_APPLICATION = "portico.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.portico",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------------------
DATABASE_URL = env.url("DATABASE_URL", schemes=("postgres", "postgresql"))
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery ------------------------------------------------------------------------------
REDIS_URL = env.url("REDIS_URL", None, schemes=("redis", "rediss"))
CELERY_BROKER_URL = (
    env.url("CELERY_BROKER_URL", None, schemes=("redis", "rediss", "amqp", "filesystem"))
    or REDIS_URL
)
if not CELERY_BROKER_URL:
    raise ImproperlyConfigured("CELERY_BROKER_URL (or REDIS_URL) is required but not set.")
# A task a worker took and has not acknowledged (it acknowledges when done) goes to another
# worker after this long (Redis): longer than the longest job. Workers look for such tasks
# every 10 s (Kombu's default looks every 100 s), a cheap query on a small index.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=1),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server, for the quickstart: messages are files in one folder.
    _broker_folder = env.string("CELERY_BROKER_FOLDER", str(BASE_DIR / "var" / "broker"))
    Path(_broker_folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "data_folder_in": _broker_folder,
        "data_folder_out": _broker_folder,
        "processed_folder": _broker_folder,
        "control_folder": _broker_folder,
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Roll-ups (with the minute's sweep, which recomputes) and reports each go to the queue named
# here, so that each can have workers of its own (`worker -Q rollups`, docs/deployment.md). A
# worker started without -Q serves every queue, so one worker alone still does everything.
CELERY_TASK_DEFAULT_QUEUE = "celery"
ROLLUP_QUEUE = env.string("CELERY_ROLLUP_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
REPORT_QUEUE = env.string("CELERY_REPORT_QUEUE", CELERY_TASK_DEFAULT_QUEUE)
for _variable, _queue in (
    ("CELERY_ROLLUP_QUEUE", ROLLUP_QUEUE),
    ("CELERY_REPORT_QUEUE", REPORT_QUEUE),
):
    # The name goes into `celery worker -Q a,b`: no commas, spaces or other surprises.
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", _queue):
        raise ImproperlyConfigured(
            f"{_variable} must be a queue name of letters, digits, '_', '.' and '-',"
            f" not {_queue!r}."
        )
# Each queue on an exchange of its own name, as Celery makes its default one: with Celery's
# defaults every queue would be bound to the "celery" key and get the default queue's tasks.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in dict.fromkeys((CELERY_TASK_DEFAULT_QUEUE, ROLLUP_QUEUE, REPORT_QUEUE))
]
CELERY_TASK_ROUTES = {
    "finance.tasks.recompute_dirty_periods": {"queue": ROLLUP_QUEUE},
    "finance.tasks.recompute_open_periods": {"queue": ROLLUP_QUEUE},
    "finance.tasks.recompute_period": {"queue": ROLLUP_QUEUE},
    "finance.tasks.sweep": {"queue": ROLLUP_QUEUE},
    "finance.tasks.run_report": {"queue": REPORT_QUEUE},
}
# django-celery-beat's DatabaseScheduler, used only by the beat holding the beat lock.
CELERY_BEAT_SCHEDULER = "portico.beat:SingleBeatScheduler"
CELERY_TIMEZONE = None  # set below from TIME_ZONE

# --- Authentication ----------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username or address before any backend is asked.
# Each of the others answers only when its way in is configured (core.signin).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.signin.LocalPasswordBackend",
    "core.signin.DirectoryBackend",
    "core.signin.OidcBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Local accounts' passwords (and their reset by e-mail); off when everyone signs in through
# the identity provider or the directory.
LOGIN_LOCAL_PASSWORDS = env.boolean("LOGIN_LOCAL_PASSWORDS", True)
PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_HOURS", 24, minimum=1) * 3600

# --- Single sign-on: OpenID Connect (docs/sign-in.md) ------------------------------------
# On when OIDC_ISSUER is set; its endpoints come from its discovery document.
OIDC_ISSUER = env.url("OIDC_ISSUER", None, schemes=("https", "http"))
OIDC_RP_CLIENT_ID = env.string("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env.string("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = " ".join(env.string_list("OIDC_SCOPES", ["openid", "email", "profile"]))
OIDC_RP_SIGN_ALGO = env.choice(
    "OIDC_SIGN_ALGORITHM", "RS256", choices=("RS256", "RS384", "RS512", "ES256", "ES384")
)
OIDC_USERNAME_CLAIM = env.string("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env.string("OIDC_GROUPS_CLAIM", "groups")
OIDC_ROLE_MAP = env.mapping("OIDC_ROLE_MAP", {}, choices=ROLES)
OIDC_CREATE_USER = env.boolean("OIDC_CREATE_USERS", True)
OIDC_BUTTON_LABEL = env.string("OIDC_BUTTON_LABEL", "Sign in with single sign-on")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
if OIDC_ISSUER:
    for _variable, _value in (
        ("OIDC_CLIENT_ID", OIDC_RP_CLIENT_ID),
        ("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET),
        ("OIDC_ROLE_MAP", OIDC_ROLE_MAP),
    ):
        if not _value:
            raise ImproperlyConfigured(f"{_variable} is required when OIDC_ISSUER is set.")
    if "openid" not in OIDC_RP_SCOPES.split():
        raise ImproperlyConfigured("OIDC_SCOPES must include openid.")

# --- Directory sign-in: LDAP / Active Directory (docs/sign-in.md) -------------------------
# On when LDAP_SERVER_URI is set; django-auth-ldap reads the AUTH_LDAP_* names.
LDAP_SERVER_URI = env.url("LDAP_SERVER_URI", None, schemes=("ldap", "ldaps"))
AUTH_LDAP_SERVER_URI = LDAP_SERVER_URI or ""
AUTH_LDAP_START_TLS = env.boolean("LDAP_START_TLS", False)
AUTH_LDAP_BIND_DN = env.string("LDAP_BIND_DN", "")
AUTH_LDAP_BIND_PASSWORD = env.string("LDAP_BIND_PASSWORD", "")
LDAP_USER_SEARCH_BASE = env.string("LDAP_USER_SEARCH_BASE", "")
LDAP_USER_FILTER = env.string("LDAP_USER_FILTER", "(uid=%(user)s)")
LDAP_GROUP_SEARCH_BASE = env.string("LDAP_GROUP_SEARCH_BASE", "")
# LDAP_GROUP_TYPE -> how the directory records membership.
LDAP_GROUP_TYPES = {
    "groupOfNames": GroupOfNamesType(),
    "nestedGroupOfNames": NestedGroupOfNamesType(),
    "groupOfUniqueNames": GroupOfUniqueNamesType(),
    "posixGroup": PosixGroupType(),
    "activeDirectory": ActiveDirectoryGroupType(),
    "nestedActiveDirectory": NestedActiveDirectoryGroupType(),
}
LDAP_GROUP_TYPE = env.choice("LDAP_GROUP_TYPE", "groupOfNames", choices=tuple(LDAP_GROUP_TYPES))
LDAP_ROLE_MAP = env.mapping("LDAP_ROLE_MAP", {}, choices=ROLES)
AUTH_LDAP_NO_NEW_USERS = not env.boolean("LDAP_CREATE_USERS", True)
LDAP_CA_CERT_FILE = env.string("LDAP_CA_CERT_FILE", "")
if LDAP_SERVER_URI:
    for _variable, _value in (
        ("LDAP_USER_SEARCH_BASE", LDAP_USER_SEARCH_BASE),
        ("LDAP_GROUP_SEARCH_BASE", LDAP_GROUP_SEARCH_BASE),
        ("LDAP_ROLE_MAP", LDAP_ROLE_MAP),
    ):
        if not _value:
            raise ImproperlyConfigured(f"{_variable} is required when LDAP_SERVER_URI is set.")
    if "%(user)s" not in LDAP_USER_FILTER:
        raise ImproperlyConfigured("LDAP_USER_FILTER must contain %(user)s.")
AUTH_LDAP_USER_SEARCH = LDAPSearch(LDAP_USER_SEARCH_BASE, ldap.SCOPE_SUBTREE, LDAP_USER_FILTER)
AUTH_LDAP_GROUP_SEARCH = LDAPSearch(LDAP_GROUP_SEARCH_BASE, ldap.SCOPE_SUBTREE, "(objectClass=*)")
AUTH_LDAP_GROUP_TYPE = LDAP_GROUP_TYPES[LDAP_GROUP_TYPE]
# inetOrgPerson (OpenLDAP) and Active Directory name these attributes alike.
AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
AUTH_LDAP_ALWAYS_UPDATE_USER = True
AUTH_LDAP_CONNECTION_OPTIONS = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: 10}
if LDAP_CA_CERT_FILE:
    AUTH_LDAP_GLOBAL_OPTIONS = {ldap.OPT_X_TLS_CACERTFILE: LDAP_CA_CERT_FILE}
# Throttle guessing: after LOGIN_FAILURE_LIMIT failures for one username from one address, or
# LOGIN_FAILURE_LIMIT_PER_ADDRESS from one address whatever the usernames (password spraying),
# further attempts are refused for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.integer("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 30, minimum=1)
AXES_COOLOFF_TIME = env.integer("LOGIN_LOCKOUT_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "core.login_throttling.LoginThrottle"
AXES_CLIENT_IP_CALLABLE = "core.login_throttling.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Internationalisation ----------------------------------------------------------------
# The languages records may carry translations in; the first is the one they are written in
# (docs/translations.md). Pages follow the person's chosen language (PreferredLanguageMiddleware),
# else the browser's (LocaleMiddleware).
PORTICO_LANGUAGES = env.languages("PORTICO_LANGUAGES", ["en"])
LANGUAGES = [(code, LANG_INFO[code]["name_local"]) for code in PORTICO_LANGUAGES]
LANGUAGE_CODE = "en-gb" if PORTICO_LANGUAGES[0] == "en" else PORTICO_LANGUAGES[0]
TIME_ZONE = env.string("TIME_ZONE", "UTC")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA time zone name, not {TIME_ZONE!r}."
    ) from None
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

PORTICO_CURRENCY = env.currency("PORTICO_CURRENCY", "EUR")
PORTICO_FISCAL_YEAR_START_MONTH = env.integer("PORTICO_FISCAL_YEAR_START_MONTH", 1, minimum=1)
# How far from today a new accounting period may be opened (finance.services.period_window):
# a mistyped year (1900-01) is refused rather than opened. Existing periods are not affected.
PORTICO_PERIOD_YEARS_BACK = env.integer("PORTICO_PERIOD_YEARS_BACK", 10, minimum=0)
PORTICO_PERIOD_YEARS_AHEAD = env.integer("PORTICO_PERIOD_YEARS_AHEAD", 5, minimum=0)
# Days after a figure is due (one window after the last one ended) before the item or
# outcome reads "stale" (performance.selectors).
PORTICO_MEASUREMENT_GRACE_DAYS = env.integer("PORTICO_MEASUREMENT_GRACE_DAYS", 14, minimum=0)
# Budgets (budgets.services): how many closed months before a fiscal year a new budget's run
# rate averages, and when a variance between budget and actual is listed for finance: beyond
# both this percentage of the budget and this amount in the reporting currency.
PORTICO_BUDGET_RUN_RATE_MONTHS = env.integer("PORTICO_BUDGET_RUN_RATE_MONTHS", 3, minimum=1)
PORTICO_BUDGET_VARIANCE_PERCENT = env.integer("PORTICO_BUDGET_VARIANCE_PERCENT", 10, minimum=0)
PORTICO_BUDGET_VARIANCE_AMOUNT = env.integer("PORTICO_BUDGET_VARIANCE_AMOUNT", 1000, minimum=0)
# Months an owner's confirmation of a record holds before it is due again (attestation).
PORTICO_ATTESTATION_MONTHS = {
    kind: env.integer(f"PORTICO_ATTESTATION_MONTHS_{kind.upper()}", 12, minimum=1)
    for kind in ("service", "application", "contract", "valuestream")
}

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Vendored bundles name their source maps, which the manifest storage must then hash, so the
# maps are collected; only browser developer tools load them, so they are not compressed (the
# megabytes of brotli would triple the build time).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# --- E-mail ------------------------------------------------------------------------------
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Portico <portico@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env.choice(
    "EMAIL_BACKEND",
    "smtp",
    choices=("smtp", "console"),
)
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}[EMAIL_BACKEND]

# --- Notifications (docs/notifications.md) ---------------------------------------------------
# The address of the site as people reach it: e-mails link back to records under it.
PORTICO_SITE_URL = env.url("PORTICO_SITE_URL", "http://localhost:8000", schemes=("https", "http"))
# Days before a contract's notice deadline at which its owners are told (each once).
PORTICO_NOTICE_DAYS = env.integer_list("PORTICO_NOTICE_DAYS", [90, 30], minimum=1)
# A service's TCO moving by more than this percentage from one month to the next is news.
PORTICO_TCO_CHANGE_PERCENT = env.integer("PORTICO_TCO_CHANGE_PERCENT", 20, minimum=1)
# How far back the detection looks for changed improvements and failed runs.
PORTICO_NOTIFICATION_LOOKBACK_DAYS = env.integer("PORTICO_NOTIFICATION_LOOKBACK_DAYS", 7, minimum=1)
# A message claimed longer ago than this, and not sent, is claimed again (its worker died).
PORTICO_OUTBOX_LEASE_SECONDS = env.integer("PORTICO_OUTBOX_LEASE_SECONDS", 300, minimum=3)
PORTICO_OUTBOX_MAX_ATTEMPTS = env.integer("PORTICO_OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
# Hours an API sync session may stay open before it expires and its stored items are deleted.
PORTICO_SYNC_SESSION_HOURS = env.integer("PORTICO_SYNC_SESSION_HOURS", 24, minimum=1)
# Minutes an import run may preview or commit without progress before it is marked failed
# (its worker died): imports.tasks.fail_stale_runs, every five minutes by beat.
PORTICO_IMPORT_STALE_MINUTES = env.integer("PORTICO_IMPORT_STALE_MINUTES", 60, minimum=1)

# --- Security (HTTPS) --------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.boolean("SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0, minimum=0)
# Both commit every subdomain (and, once preloaded, browsers for months): opt in to each.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", False)
BEHIND_TLS_PROXY = env.boolean("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy and Permissions-Policy --------------------------------------
# Scripts, styles, images and requests from Portico's own origin only: no inline script or
# style, no eval. Templates keep to it (tests/core/test_frontend.py scans them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # data: images: Pico's form icons (in its stylesheet) and the value stream map drawn
        # for its PNG download. An image cannot run script.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features Portico never uses, refused to its pages and anything they could embed
# (core.middleware.PermissionsPolicyMiddleware): feature -> allowed origins, none here.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.TokenRights"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portico API",
    "DESCRIPTION": (
        "The service portfolio for scripts and CMDBs: list and change records, sync them in "
        "bulk by external id, and follow the change feed. Guide: docs/api.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": False,
    "POSTPROCESSING_HOOKS": [
        "core.api.schema.add_components",
        "people.api.schema.add_components",
        "core.api.session_views.add_components",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging -----------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"expected_refusals": {"()": "core.logs.ExpectedRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # WeasyPrint and its font subsetter narrate every PDF at INFO.
        **{
            name: {"level": "WARNING" if LOG_LEVEL in ("DEBUG", "INFO") else LOG_LEVEL}
            for name in ("weasyprint", "fontTools")
        },
        # A refused request (403) is one line, not a traceback.
        "django.request": {"filters": ["expected_refusals"]},
    },
}

DJANGO_TABLES2_TEMPLATE = "inc/table.html"
# The empty choice of every list's filters: one wording on every page.
FILTERS_EMPTY_CHOICE_LABEL = "Any"
