# Production image: PostgreSQL through DATABASE_URL, migrations applied at start.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/relief
RUN useradd --create-home --uid 10001 relief

COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

COPY alembic.ini ./
COPY migrations ./migrations

USER relief
EXPOSE 8000
# DATABASE_URL must point at PostgreSQL, e.g. postgresql+psycopg://relief:secret@db:5432/relief
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --proxy-headers --no-access-log"]
