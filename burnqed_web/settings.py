"""The one settings module. Everything that differs between a laptop and a cluster comes from the environment.

Unset DATABASE_URL means a SQLite file under var/; unset REDIS_URL means the embedded Redis that the run
command starts (burnqed_web.embedded_redis). The same Redis is the Celery broker, the result backend and the
Channels layer.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("BURNQED_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, or one generated once per checkout and kept in var/ (never in git)."""
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        from django.utils.crypto import get_random_string

        path.write_text(get_random_string(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "jobs",
    "prover",
    "training",
    "iterations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "jobs.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "burnqed_web.urls"
ASGI_APPLICATION = "burnqed_web.asgi.application"
WSGI_APPLICATION = None

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
                "jobs.context_processors.roles",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'burnqed.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Celery workers and the web server write concurrently (docs/deployment.md, "The embedded SQLite"):
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a transaction opens, so a
    # reader that later writes waits for the busy timeout instead of failing at once with `database is locked`.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    })
    # Django's test database for SQLite is in memory by default; a file lets worker processes share it
    # (they get its path in DATABASE_URL). One per process, so two test sessions never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, results, channel layer --------------------------------------------------------------
EMBEDDED_REDIS_PORT = env.int("BURNQED_EMBEDDED_REDIS_PORT", default=6390)
EMBEDDED_REDIS = not env.str("REDIS_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="") or f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # No client-side read timeout: redis-py 8 defaults it to 5 s, the same as channels_redis's blocking
            # receive, and an idle websocket consumer then dies every few seconds.
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": env.str("BURNQED_CHANNEL_PREFIX", default="burnqed"),
        },
    }
}

# --- celery -------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died unacknowledged goes back on its queue once it has been out this long (Redis broker).
# Longer than any chunk or training run, or a live worker's task is handed to a second one (docs/deployment.md).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("BURNQED_BROKER_VISIBILITY_S", default=3600),
    # A sweep for such tasks every this many seconds (kombu's default: 10 s x throttle 10 = 100 s).
    "unacked_restore_interval": env.int("BURNQED_BROKER_RESTORE_EVERY_S", default=30),
    "unacked_restore_throttle": 1,
}
# A task that ends while Redis restarts waits for it to store its result: otherwise the result, and with it the
# chord's count of finished chunks, is lost and the run's finishing task never fires (docs/deployment.md).
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 20  # backoff up to 10 s each: a few minutes, then the task fails loudly
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {"task": "burnqed.reap_stale_jobs", "schedule": 60.0},
    "advance-iterations": {"task": "burnqed.advance_iterations", "schedule": 30.0},
}

# --- prover backends: where runs find the policy, the encoder and Lean unless their config says otherwise --
BURNQED_POLICY_URL = env.str("BURNQED_POLICY_URL", default="http://127.0.0.1:30000")
BURNQED_ENCODER_URL = env.str("BURNQED_ENCODER_URL", default="")
BURNQED_LEAN = env.str("BURNQED_LEAN", default="minilean")
# The REPL program of lean=pantograph runs: the worker's own setting, never a run's.
BURNQED_PANTOGRAPH_REPL = env.str("BURNQED_PANTOGRAPH_REPL", default="pantograph-repl")
# A worker stamps the job it executes every BURNQED_HEARTBEAT_S seconds; a running job of any kind that no worker
# has stamped for BURNQED_JOB_STALE_S is failed by the reaper (its worker died).
BURNQED_HEARTBEAT_S = env.float("BURNQED_HEARTBEAT_S", default=10.0)
BURNQED_JOB_STALE_S = env.float("BURNQED_JOB_STALE_S", default=300.0)
BURNQED_CHECKPOINT_DIR = Path(env.str("BURNQED_CHECKPOINT_DIR", default=str(VAR_DIR / "checkpoints")))
BURNQED_TRAJECTORY_DIR = Path(env.str("BURNQED_TRAJECTORY_DIR", default=str(VAR_DIR / "trajectories")))

# --- security: fences around what a user's config makes a worker touch (docs/security.md) ---------------------
# Hosts a run's policy_url / encoder_url may name (the configured BURNQED_POLICY_URL / BURNQED_ENCODER_URL hosts
# are added); link-local and metadata addresses are refused whatever this says.
BURNQED_SERVICE_HOSTS = env.list("BURNQED_SERVICE_HOSTS", default=["127.0.0.1", "localhost", "::1"])
# Folders user-named files (models, adapters, EBMs, data and trajectory files) must lie in, besides the
# checkpoint and trajectory folders.
BURNQED_DATA_ROOTS = [Path(p) for p in env.list("BURNQED_DATA_ROOTS", default=[
    str(BASE_DIR / "data"), str(VAR_DIR / "data"),
    os.environ.get("BURNQED_MODEL_CACHE") or str(Path.home() / ".cache" / "burnqed" / "models")])]

# --- auth, api ------------------------------------------------------------------------------------------
# Login throttling (jobs/throttle.py): this many wrong passwords for one user name lock it for this long.
AUTHENTICATION_BACKENDS = ["jobs.throttle.ThrottledModelBackend"]
BURNQED_LOGIN_MAX_FAILURES = env.int("BURNQED_LOGIN_MAX_FAILURES", default=5)
BURNQED_LOGIN_LOCKOUT_S = env.int("BURNQED_LOGIN_LOCKOUT_S", default=900)
# The shared cache (login counters) is the service's Redis, so every web process counts the same failures.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                      "KEY_PREFIX": env.str("BURNQED_CHANNEL_PREFIX", default="burnqed")}}

# --- deployment hardening (docs/security.md#deployment): all off on a laptop, on with BURNQED_HTTPS=1 --------
BURNQED_HTTPS = env.bool("BURNQED_HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=BURNQED_HTTPS)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=BURNQED_HTTPS)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=BURNQED_HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if BURNQED_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=BURNQED_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=BURNQED_HTTPS)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (set it only when such a proxy is in front).
SECURE_PROXY_SSL_HEADER = (("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
                           else None)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy sent on every response (jobs/csp.py); pages load scripts from this server only.
BURNQED_CSP = env.str("BURNQED_CSP", default=(
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["jobs.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "jobs.pagination.Pagination",
    "PAGE_SIZE": env.int("BURNQED_API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "burn-qed web API",
    "DESCRIPTION": "Datasets, theorems, runs, proof trees and training of the burn-qed Lean 4 prover.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load their JavaScript from this server (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "jobs.schema_hooks.document_errors"],
    # Three models have a `status` with different choices: each enum gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {"JobStatusEnum": "jobs.models.JobStatus",
                            "TheoremResultStatusEnum": "prover.models.TheoremResult.Status",
                            "ProofNodeStatusEnum": "prover.models.ProofNode.Status"},
}

# --- i18n, static ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
def _plotly_assets() -> list[tuple[str, str]]:
    """plotly.min.js ships inside the plotly wheel: serve it from there (/static/plotly/), never from a CDN."""
    try:
        import plotly
    except ImportError:
        return []
    return [("plotly", str(Path(plotly.__file__).parent / "package_data"))]


STATICFILES_DIRS = [BASE_DIR / "static", *_plotly_assets()]
STATIC_ROOT = VAR_DIR / "static"  # collectstatic target for production; whitenoise serves from it
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the source folders so that no collectstatic step is needed on a laptop.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The largest dataset file an import takes (docs/security.md#uploads); a larger one is refused before it is read.
BURNQED_UPLOAD_MAX_BYTES = env.int("BURNQED_UPLOAD_MAX_BYTES", default=64 * 1024 * 1024)
# A larger file is imported in the background by a `cpu` worker (docs/data.md#large-imports), from a copy saved
# in BURNQED_IMPORT_DIR, which the web server and those workers must share.
BURNQED_IMPORT_INLINE_MAX_BYTES = env.int("BURNQED_IMPORT_INLINE_MAX_BYTES", default=2 * 1024 * 1024)
BURNQED_IMPORT_DIR = Path(env.str("BURNQED_IMPORT_DIR", default=str(VAR_DIR / "imports")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("BURNQED_LOG_LEVEL", default="INFO")},
}
