"""Continuum's one settings module.

Every production switch is read from an environment variable with an embedded
default that runs on one machine. docs/settings.md lists them all; keep the two
in step (tests/test_settings_documented.py checks it).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

BASE_DIR = Path(__file__).resolve().parent.parent

# Every name read here, for the documentation check.
ENV_NAMES: set[str] = set()


def envstr(name: str, default: str) -> str:
    ENV_NAMES.add(name)
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    ENV_NAMES.add(name)
    value = os.environ.get(name)
    if value is None:
        return default
    if value in ("True", "true", "1"):
        return True
    if value in ("False", "false", "0"):
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, not {value!r}")


def envint(name: str, default: int) -> int:
    ENV_NAMES.add(name)
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envfloat(name: str, default: float) -> float:
    ENV_NAMES.add(name)
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def envsecret(name: str, default: str) -> str:
    """A secret from NAME, or from the file that NAME_FILE points to."""
    ENV_NAMES.add(name)
    ENV_NAMES.add(name + "_FILE")
    path = os.environ.get(name + "_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


# Where the embedded mode keeps its database, mail, logs and service data.
VAR_DIR = Path(envstr("CONTINUUM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and envbool("CONTINUUM_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set")
    # Embedded default: a per-installation key kept beside the database.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "webapp.accounts",
    "webapp.chat",
    "webapp.evidence",
    "webapp.uploads",
    "webapp.dashboard",
    "webapp.alerts",
    "webapp.followup",
    "webapp.myrecord",
    "oauth2_provider",
    "fhir.apps.FhirConfig",
    "agent",
    "perception",
    "perception.imaging",
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
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
            ],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL names PostgreSQL.
DATABASE_URL = envstr("DATABASE_URL", "")
DATABASE_POOL_SIZE = envint("DATABASE_POOL_SIZE", 10)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A connection pool per process: Celery closes Django's connections after
        # every task, and opening a new PostgreSQL connection costs more than
        # the rest of a turn's queries (bench/chat_roundtrip.py).
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": 10,
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(VAR_DIR / "continuum.sqlite3")),
            # The web server and the worker write from separate processes:
            # WAL plus IMMEDIATE transactions make them queue instead of failing.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests give the live processes a file they can share, not :memory:.
    DATABASES["default"]["TEST"] = {"NAME": envstr("SQLITE_TEST_NAME", str(VAR_DIR / "test.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries the Celery queue and the channel layer. The run command
# starts a private one at this address when REDIS_URL is not set.
REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6390/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # Pooled connections go stale when Redis restarts: check idle ones
            # before use and retry a command once on a fresh connection.
            "hosts": [{
                "address": REDIS_URL,
                "health_check_interval": 5,
                # One connection per concurrent channel operation: many sockets
                # opening at once need many (Redis allows 10,000 clients).
                "max_connections": 2000,
                "retry": AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                # redis-py 8 reads with a 5 s timeout by default, the same 5 s a consumer's blocking pop
                # waits for a message: an idle socket would lose the race and its consumer would crash.
                "socket_timeout": 30,
                "socket_connect_timeout": 5,
                "retry_on_error": [RedisConnectionError, RedisTimeoutError],
            }],
            "capacity": 1000,
            "expiry": 60,
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged only once it has run...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and requeued if its worker dies
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "turns"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("BROKER_VISIBILITY_TIMEOUT", 3600)}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery's Django fixup closes every connection around each task and, under prefork, the whole connection
# pool: each turn would open a new pool and a new PostgreSQL connection (about a third of a turn's worker
# time in bench/chat_roundtrip.py). It does that only every 2 x this many tasks; in between, agent/tasks.py
# hands connections back to the process's pool around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = 500

# The core model: any OpenAI-compatible server. With MODEL_BASE_URL unset the
# run command starts llama.cpp's server on LOCAL_MODEL_PORT with LOCAL_MODEL.
LOCAL_MODEL = envstr("LOCAL_MODEL", "default")
LOCAL_MODEL_PORT = envint("LOCAL_MODEL_PORT", 8011)
MODEL_BASE_URL = envstr("MODEL_BASE_URL", f"http://127.0.0.1:{LOCAL_MODEL_PORT}/v1")
MODEL_NAME = envstr("MODEL_NAME", "continuum-local")
MODEL_API_KEY = envsecret("MODEL_API_KEY", "not-needed")
MODEL_TIMEOUT_SECONDS = envfloat("MODEL_TIMEOUT_SECONDS", 120.0)
MODEL_CONNECT_TIMEOUT_SECONDS = envfloat("MODEL_CONNECT_TIMEOUT_SECONDS", 5.0)
MODEL_MAX_RETRIES = envint("MODEL_MAX_RETRIES", 2)
MODEL_MAX_TOKENS = envint("MODEL_MAX_TOKENS", 512)
MODEL_TEMPERATURE = envfloat("MODEL_TEMPERATURE", 0.3)
MODEL_CONTEXT_CHARS = envint("MODEL_CONTEXT_CHARS", 6000)
# How the model calls tools: "native" (the server parses tool calls: vLLM with --enable-auto-tool-choice and a
# --tool-call-parser), "json" (one grammar-constrained decision call, for servers without tool calling such as the
# embedded llama.cpp server), or "off".
MODEL_TOOL_CALLING = envstr("MODEL_TOOL_CALLING", "json")
if MODEL_TOOL_CALLING not in ("native", "json", "off"):
    raise ImproperlyConfigured(f"MODEL_TOOL_CALLING must be native, json or off, not {MODEL_TOOL_CALLING!r}")
TURN_TOOL_CALL_BUDGET = envint("TURN_TOOL_CALL_BUDGET", 4)
TURN_TIME_BUDGET_SECONDS = envfloat("TURN_TIME_BUDGET_SECONDS", 60.0)
# With json tool calling a repair is a third model call, over the CPU's two-call budget: off by default there
# (the error still reaches the model, in the reply call's context).
TOOL_REPAIR_ATTEMPTS = envint("TOOL_REPAIR_ATTEMPTS", 1 if MODEL_TOOL_CALLING == "native" else 0)

# Evidence (agent/evidence, docs/evidence.md). Unset ELASTICSEARCH_URL: the embedded SQLite index.
ELASTICSEARCH_URL = envstr("ELASTICSEARCH_URL", "")
ELASTICSEARCH_INDEX = envstr("ELASTICSEARCH_INDEX", "continuum-evidence")
ELASTICSEARCH_TIMEOUT = envfloat("ELASTICSEARCH_TIMEOUT", 2.0)
EVIDENCE_INDEX_PATH = envstr("EVIDENCE_INDEX_PATH", str(VAR_DIR / "evidence.sqlite3"))
# Outside var/ on purpose: embedding the corpus takes minutes on 2 cores, and a clean clone should not pay it again.
EVIDENCE_EMBEDDING_CACHE = envstr("EVIDENCE_EMBEDDING_CACHE",
                                  str(Path.home() / ".cache" / "continuum" / "evidence-embeddings.sqlite3"))
EVIDENCE_PASSAGES_PER_TURN = envint("EVIDENCE_PASSAGES_PER_TURN", 3)
# OpenMP threads the embedding engine uses for a query, per process (agent/evidence/embed.py): 1 for serving, where
# processes already take one core each; embedding passages (an ingest) uses every core.
EVIDENCE_EMBED_THREADS = envint("EVIDENCE_EMBED_THREADS", 1)
GROUNDING = envstr("GROUNDING", "on")
if GROUNDING not in ("on", "off"):
    raise ImproperlyConfigured(f"GROUNDING must be on or off, not {GROUNDING!r}")

# Perception (uploads, OCR, imaging models, DICOM): work runs on the `perception` queue.
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
UPLOAD_MAX_PIXELS = envint("UPLOAD_MAX_PIXELS", 50_000_000)  # larger images are refused as decompression bombs
UPLOAD_MAX_PAGES = envint("UPLOAD_MAX_PAGES", 20)
# Remove patient identifiers from DICOM files before they are stored (PS3.15 basic profile, perception/dicom).
DICOM_DEIDENTIFY = envbool("DICOM_DEIDENTIFY", False)
# Uploads waiting or being read for longer than this are re-enqueued by the reconciler (a lost or killed job).
PERCEPTION_STALE_SECONDS = envint("PERCEPTION_STALE_SECONDS", 300)
OCR_ENGINE = envstr("OCR_ENGINE", "rapidocr")
if OCR_ENGINE not in ("rapidocr", "easyocr"):
    raise ImproperlyConfigured(f"OCR_ENGINE must be rapidocr or easyocr, not {OCR_ENGINE!r}")
# Weights of installed imaging classifiers (their registry rows live in the database).
IMAGING_MODELS_DIR = Path(envstr("IMAGING_MODELS_DIR", str(VAR_DIR / "imaging-models")))

# Chat limits. A message over the limit is stored in full and answered with a
# request to shorten it; a flood is stored and coalesced into one turn.
CHAT_MAX_MESSAGE_CHARS = envint("CHAT_MAX_MESSAGE_CHARS", 4000)
CHAT_MAX_FRAME_BYTES = envint("CHAT_MAX_FRAME_BYTES", 65536)
CHAT_RATE_LIMIT_MESSAGES = envint("CHAT_RATE_LIMIT_MESSAGES", 6)
CHAT_RATE_LIMIT_WINDOW_SECONDS = envint("CHAT_RATE_LIMIT_WINDOW_SECONDS", 30)

# Durable turns: a running turn whose heartbeat is older than this is
# presumed dead; a pending one not picked up for this long is re-enqueued.
TURN_STALL_SECONDS = envint("TURN_STALL_SECONDS", 60)
TURN_RETRY_MAX_SECONDS = envint("TURN_RETRY_MAX_SECONDS", 60)
TURN_MAX_ATTEMPTS = envint("TURN_MAX_ATTEMPTS", 200)
# Readings a patient reports: how many times the reconciler hands a message's job to the broker before leaving it
# for a person (logged); the message itself is stored either way.
MEASUREMENT_MAX_ATTEMPTS = envint("MEASUREMENT_MAX_ATTEMPTS", 50)
RECONCILE_INTERVAL_SECONDS = envint("RECONCILE_INTERVAL_SECONDS", 10)
# Follow-up check-ins (webapp/followup): how often the beat looks for due ones, the hour on the patient's clock
# they are sent at (kept between 08:00 and 20:00), one reminder after this many hours without a reply, and a Flag
# for the care team this many hours after the reminder.
CHECKIN_INTERVAL_SECONDS = envint("CHECKIN_INTERVAL_SECONDS", 60)
CHECKIN_LOCAL_HOUR = envint("CHECKIN_LOCAL_HOUR", 9)
CHECKIN_REMINDER_HOURS = envint("CHECKIN_REMINDER_HOURS", 24)
CHECKIN_ESCALATE_HOURS = envint("CHECKIN_ESCALATE_HOURS", 24)
CELERY_BEAT_SCHEDULE = {
    "reconcile-turns": {
        "task": "agent.tasks.reconcile_turns",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    "reconcile-measurements": {
        "task": "agent.tasks.reconcile_measurements",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    "reconcile-uploads": {
        "task": "perception.tasks.reconcile_uploads",
        "schedule": float(RECONCILE_INTERVAL_SECONDS),
    },
    "escalate-alerts": {
        "task": "webapp.alerts.tasks.escalate_alerts",
        "schedule": float(envint("ALERT_ESCALATION_INTERVAL_SECONDS", 30)),
    },
    "check-ins": {  # follow-up check-ins: send what is due, remind, escalate (webapp/followup/tasks.py)
        "task": "webapp.followup.tasks.run_check_ins",
        "schedule": float(CHECKIN_INTERVAL_SECONDS),
    },
    "refresh-statistics": {  # SQLite's query planner statistics as the record grows (fhir/maintenance.py)
        "task": "fhir.tasks.refresh_database_statistics",
        "schedule": 3600.0,
    },
}
# Perception has workers of its own: a long OCR job never holds up a chat turn.
CELERY_TASK_ROUTES = {"perception.tasks.*": {"queue": "perception"}}

# Sessions: a sliding timeout, renewed by every request.
SESSION_COOKIE_AGE = envint("SESSION_TIMEOUT_SECONDS", 1800)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Red flags: how soon a clinician must acknowledge an emergency, and see an urgent patient.
EMERGENCY_ACK_MINUTES = envint("EMERGENCY_ACK_MINUTES", 15)
URGENT_RESPONSE_MINUTES = envint("URGENT_RESPONSE_MINUTES", 240)

# Alerts that reach someone (webapp/alerts, docs/dashboard.md): channels, the fallback, retries, the clinic's hours.
ALERT_CHANNELS = envlist("ALERT_CHANNELS", "email,webhook")
if set(ALERT_CHANNELS) - {"email", "webhook"}:
    raise ImproperlyConfigured(f"ALERT_CHANNELS may name email and webhook, not {ALERT_CHANNELS!r}")
ALERT_FALLBACK_EMAIL = envstr("ALERT_FALLBACK_EMAIL", "")
ALERT_FALLBACK_WEBHOOK_URL = envstr("ALERT_FALLBACK_WEBHOOK_URL", "")
ALERT_WEBHOOK_SECRET = envsecret("ALERT_WEBHOOK_SECRET", "")
ALERT_WEBHOOK_TIMEOUT_SECONDS = envfloat("ALERT_WEBHOOK_TIMEOUT_SECONDS", 5.0)
ALERT_DELIVERY_MAX_ATTEMPTS = envint("ALERT_DELIVERY_MAX_ATTEMPTS", 5)
ALERT_RETRY_BASE_SECONDS = envint("ALERT_RETRY_BASE_SECONDS", 10)  # backoff 10, 20, 40 ... s, at most 300
ALERT_DELIVERY_STALE_SECONDS = envint("ALERT_DELIVERY_STALE_SECONDS", 600)
if ALERT_DELIVERY_STALE_SECONDS < 360:  # shorter than the longest backoff (300 s) would re-send waiting retries
    raise ImproperlyConfigured("ALERT_DELIVERY_STALE_SECONDS must be at least 360")
ALERT_ACK_LINK_MAX_AGE_SECONDS = envint("ALERT_ACK_LINK_MAX_AGE_SECONDS", 86400)
ALERT_LINK_BASE_URL = envstr("ALERT_LINK_BASE_URL", "http://127.0.0.1:8000")
ALERT_MESSAGE_DETAILS = envbool("ALERT_MESSAGE_DETAILS", True)
CLINIC_OPENS_HOUR = envint("CLINIC_OPENS_HOUR", 8)
CLINIC_CLOSES_HOUR = envint("CLINIC_CLOSES_HOUR", 18)
if not 0 <= CLINIC_OPENS_HOUR < CLINIC_CLOSES_HOUR <= 24:
    raise ImproperlyConfigured("CLINIC_OPENS_HOUR and CLINIC_CLOSES_HOUR must satisfy 0 <= opens < closes <= 24")
CLINIC_DAYS = [day.lower() for day in envlist("CLINIC_DAYS", "mon,tue,wed,thu,fri")]
if set(CLINIC_DAYS) - {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}:
    raise ImproperlyConfigured(f"CLINIC_DAYS must name days as mon ... sun, not {CLINIC_DAYS!r}")

# The FHIR API: OAuth 2 tokens with SMART scopes (django-oauth-toolkit), request limits.
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "fhir.oauth.SmartScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": envint("FHIR_TOKEN_SECONDS", 3600),
    "PKCE_REQUIRED": True,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named so fhir.ClientGrant can point at it
FHIR_MAX_BODY_BYTES = envint("FHIR_MAX_BODY_BYTES", 10 * 1024 * 1024)
FHIR_MAX_BUNDLE_ENTRIES = envint("FHIR_MAX_BUNDLE_ENTRIES", 1000)
DATA_UPLOAD_MAX_MEMORY_SIZE = FHIR_MAX_BODY_BYTES + 1024 * 1024

# Mail (password reset). Embedded default: one file per message in var/mail.
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Continuum <no-reply@localhost>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even when serving from finders
WHITENOISE_USE_FINDERS = True  # serve static/ without a collectstatic step

LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
