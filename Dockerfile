# The order service image (API, relay, worker and migrate share it; the command picks one).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY contract.py ./
COPY service ./service
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
# The RDS CA bundle for sslmode=verify-full (ORDERS_DATABASE_SSL_ROOT_CERT).
ADD --chmod=0444 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/rds/global-bundle.pem
RUN groupadd --system --gid 10001 orders \
 && useradd --system --uid 10001 --gid orders --no-create-home --shell /usr/sbin/nologin orders
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000
# Read-only root filesystem friendly: nothing is written at run time.
ENTRYPOINT ["python", "-m", "service"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
