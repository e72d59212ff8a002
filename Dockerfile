# One image for web, worker and beat (docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UNIVIEW_VAR_DIR=/var/lib/uniview
WORKDIR /app
# Pango (and a font) for WeasyPrint, which makes the monthly report's PDF (R18.3).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
# The locked runtime dependencies first (a layer that changes only with the lock), then the
# project itself without resolving anything again.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-cache-dir -r requirements/lock.txt
COPY . .
RUN pip install --no-cache-dir --no-deps . && useradd --system --home /app uniview \
    && mkdir -p /var/lib/uniview && chown uniview /var/lib/uniview
USER uniview
# Throwaway keys for collectstatic only, so no key is made into the image's var/;
# the containers get SECRET_KEY and FIELD_ENCRYPTION_KEY from the environment.
RUN SECRET_KEY=build-only \
    FIELD_ENCRYPTION_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["gunicorn", "uniview.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
