"""Django settings for the benchmark baseline: no database, no apps beyond what a feed needs."""

import os

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "django_feed.urls"
INSTALLED_APPS: list[str] = []
# What a Django site serving feeds would use: gzip by Accept-Encoding, ETag and 304.
MIDDLEWARE = [
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
TIME_ZONE = "Europe/Madrid"
USE_I18N = False
LOGGING_CONFIG = None
BENCH_CONTENT = os.environ.get("BENCH_CONTENT", "content")
BENCH_BASE_URL = os.environ.get("BENCH_BASE_URL", "http://127.0.0.1:8000")
