# syntax=docker/dockerfile:1
# Portico production image: `docker compose up` (see docker-compose.yml and .env.example).

# --- Stage 1: the locked runtime dependencies in a virtual environment ---------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

RUN pip install uv==0.13.9

# python-ldap (directory sign-in) is built from source against OpenLDAP's and SASL's headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.lock /tmp/requirements.lock
RUN --mount=type=cache,target=/root/.cache/uv \
    python -m venv --without-pip /opt/venv \
    && uv pip sync --python /opt/venv/bin/python /tmp/requirements.lock

# --- Stage 2: the runtime image ------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=portico.settings

# psycopg[binary] brings its own libpq; these are the libraries and fonts WeasyPrint needs,
# and OpenLDAP's and SASL's client libraries for python-ldap.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
        libldap-2.5-0 libsasl2-2 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portico \
    && useradd --system --uid 10001 --gid portico --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portico

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .

# Static files are collected (hashed and compressed for WhiteNoise) into the image. Settings
# demand these variables, so collectstatic gets placeholders: nothing connects to them here.
# The code stays owned by root and read-only to the application user: Portico keeps its data,
# report files included, in the database.
RUN DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    SECRET_KEY=build-only-placeholder-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput --verbosity 0

USER portico:portico
EXPOSE 8000
CMD ["gunicorn", "portico.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "sync"]
