FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PADU_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN useradd --create-home --uid 1000 padu

COPY pyproject.toml README.md ./
COPY padu ./padu
COPY accounts ./accounts
COPY channels_meta ./channels_meta
COPY inbox ./inbox
COPY privacy ./privacy
# `docker compose build --build-arg PADU_EXTRAS=[s3]` adds S3-compatible media storage.
ARG PADU_EXTRAS=""
RUN pip install ".${PADU_EXTRAS}"

COPY manage.py ./
COPY templates ./templates
COPY static ./static
COPY locale ./locale
# Production static files (hashed names) need production settings; these values exist
# only for this build step.
RUN PADU_ENV=production DEBUG=false ALLOWED_HOSTS=build \
    SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    TOKEN_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R padu:padu /app/var

USER padu
EXPOSE 8000
# Workers, threads, which peer may set forwarded headers, and an access log without
# secrets: padu/gunicorn.conf.py.
CMD ["gunicorn", "-c", "padu/gunicorn.conf.py", "padu.wsgi"]
