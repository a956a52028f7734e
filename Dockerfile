# Production image: PostgreSQL through DATABASE_URL, migrations applied at start.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/relief
RUN useradd --create-home --uid 10001 relief \
 && mkdir -p /var/lib/relief && chown relief:relief /var/lib/relief && chmod 0700 /var/lib/relief

COPY pyproject.toml README.md ./
COPY app ./app
# A regular (non-editable) install: the code and the package data under app/ (pyproject's
# package-data) land in site-packages, owned by root, read-only for the service's user.
RUN pip install .

COPY alembic.ini ./
COPY migrations ./migrations

USER relief
# The signing key lives on a volume here (docker-compose.yml); JSON log lines by default.
ENV SIGNING_KEY_PATH=/var/lib/relief/relief-signing.key \
    LOG_FORMAT=json
VOLUME ["/var/lib/relief"]
EXPOSE 8000
# DATABASE_URL must point at PostgreSQL, e.g. postgresql+psycopg://relief:secret@db:5432/relief
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers --no-access-log"]
