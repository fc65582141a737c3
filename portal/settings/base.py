"""Settings for every environment; each value can be set from the environment."""

from __future__ import annotations

import os

import django_stubs_ext

from portal.embedded_postgres import PROJECT_ROOT, embedded_database_url
from portal.settings.env import database_from_url, env_bool, env_list, secret_key, sqlalchemy_url

django_stubs_ext.monkeypatch()

BASE_DIR = PROJECT_ROOT
LOCAL_DIR = BASE_DIR / ".local"

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = secret_key(LOCAL_DIR)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [".localhost", "localhost", "127.0.0.1", "testserver"]
)

DATABASE_URL = os.environ.get("DATABASE_URL") or embedded_database_url()
DATABASES = {
    "default": {
        **database_from_url(DATABASE_URL),
        "ENGINE": "django_tenants.postgresql_backend",
        "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # Lets several test runs share one server, each with its own database.
        "TEST": {"NAME": os.environ.get("PORTAL_TEST_DB") or None},
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Apps in the public schema: tenants, their domains and the platform operator's users.
SHARED_APPS = [
    "portal.tenants",
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "rest_framework",
    "rest_framework.authtoken",
    # No models: the API schema (drf_spectacular) and Swagger UI's static files (sidecar).
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal.core",
    "portal.users",
    "portal.audit",
]
# Apps in every tenant's schema.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "rest_framework.authtoken",
    "portal.users",
    "portal.audit",
    "billing",
    "allocation",
    "invoices",
    "insights",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "portal.urls_public"
ROOT_URLCONF = "portal.urls_tenant"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
PORTAL_BASE_DOMAIN = os.environ.get("PORTAL_BASE_DOMAIN", "localhost")

AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

MIDDLEWARE = [
    "portal.tenants.middleware.PortalTenantMiddleware",
    "portal.core.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
                "portal.core.context_processors.portal",
            ],
        },
    }
]
WSGI_APPLICATION = "portal.wsgi.application"

# Security: plain HTTP only where PORTAL_HTTPS=0 is set (the local `make run`).
HTTPS = env_bool("PORTAL_HTTPS", True)
# The port of the tenants' sites in links sent from the background (e-mails, webhooks),
# when it is not the scheme's own (the local `make run`).
SITE_PORT = os.environ.get("PORTAL_SITE_PORT", "")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Over HTTPS, plain HTTP is redirected and browsers are told (HSTS, a year by default) to
# use HTTPS only, for the domain and its subdomains (each tenant's host).
SECURE_SSL_REDIRECT = env_bool("PORTAL_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("PORTAL_HSTS_SECONDS", 31_536_000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PORTAL_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("PORTAL_HSTS_PRELOAD", True)
if env_bool("PORTAL_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Failed logins: this many in the window block further tries for that user and address.
LOGIN_FAILURE_LIMIT = int(os.environ.get("PORTAL_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("PORTAL_LOGIN_FAILURE_WINDOW", "900"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = LOCAL_DIR / "static"
MEDIA_ROOT = os.environ.get("PORTAL_MEDIA_ROOT", str(LOCAL_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Upload limits, checked while a request streams in: bill files (the ingest page and API)
# may be large, any other file or request body is small.
PORTAL_MAX_BILL_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_BILL_UPLOAD_BYTES", 2 << 30))
PORTAL_MAX_UPLOAD_BYTES = int(os.environ.get("PORTAL_MAX_UPLOAD_BYTES", 10 << 20))
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTAL_MAX_UPLOAD_BYTES
FILE_UPLOAD_HANDLERS = [
    "billing.ingest.uploads.SizeLimitUploadHandler",  # first: it bounds what the others get
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")
# Webhooks to loopback, private or link-local addresses only where this is set (local tests).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("PORTAL_WEBHOOK_ALLOW_PRIVATE", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.core.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "portal.core.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["portal.core.filters.DeclaredFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "portal.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "portal.api_schema.PortalAutoSchema",
}

# The OpenAPI schema of the REST API (/api/v1/schema/) and its Swagger UI (/api/v1/docs/).
SPECTACULAR_SETTINGS = {
    "TITLE": "FinOps portal API",
    "DESCRIPTION": (
        "The REST API of one tenant, served on the tenant's own host under /api/v1/. "
        "Get a token with POST /api/v1/auth/token/ and send `Authorization: Token <key>`. "
        'Every error answers {"code", "message", "field"?, "errors"?}.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema holds no tenant data; the endpoints it describes stay authenticated.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Read-only fields stay out of request bodies, so tools send what the API accepts.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI's assets come from the project's static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status` or `kind` of their own: each keeps its own name.
    "ENUM_NAME_OVERRIDES": {
        "IngestStatusEnum": "billing.models.ingests.IngestStatus",
        "TransferStatusEnum": "billing.models.transfers.TransferStatus",
        "AllocationRunStatusEnum": "allocation.models.RunStatus",
        "InvoiceRunStatusEnum": "invoices.models.runs.InvoiceRunStatus",
        "InvoiceStatusEnum": "invoices.models.documents.InvoiceStatus",
        "DocumentKindEnum": "invoices.models.documents.DocumentKind",
    },
}

# Celery: with no CELERY_BROKER_URL, the broker is the database itself (no extra server).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "sqla+" + sqlalchemy_url(DATABASE_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    # WeasyPrint tells each step of each PDF at INFO.
    "loggers": {"pgserver": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}
