# certmate image: one image for the web server (gunicorn), the Celery worker, Celery beat and the
# one-shot migrate job. docker-compose.yml picks the process through `command`; the default is web.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=certmate.settings.prod \
    CERTMATE_VAR_DIR=/app/var

# An unprivileged account owns nothing but var/; the code and static files stay root-owned.
RUN groupadd --system --gid 10001 certmate \
    && useradd --system --uid 10001 --gid certmate --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin certmate

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements/ requirements/
RUN pip install -r requirements/prod.txt

COPY . .

# collectstatic imports the production settings, which refuse to load without their secrets. The
# values below exist only for this build step: they are not in the final environment, nothing
# connects to the database at import, and memory:// keeps the settings from creating broker folders.
# BUILD-ONLY Fernet key below: never use it for real data.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret \
    CERTMATE_ENCRYPTION_KEYS=jpGquv5-D3mfBt9XQscyaiQcL6B0waXPV98JkF8-cIM= \
    DATABASE_URL=postgres://build@localhost/build \
    DJANGO_ALLOWED_HOSTS=localhost \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/certificates /app/var/metrics \
    && chown -R certmate:certmate /app/var && chmod 0700 /app/var/certificates /app/var/metrics

# The certmate account, by number so that runtimes checking for non-root need not resolve a name.
USER 10001:10001

EXPOSE 8000

CMD ["gunicorn", "certmate.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "8", "--timeout", "330", "--access-logfile", "-"]
