# syntax=docker/dockerfile:1
# One image for the control plane (`monitor serve`), the scheduler and the sidecar (stage
# `monitor`, the default), and one for the MLflow tracking and scoring servers (stage `mlflow`).

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The dependencies get their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
# What the models need: the scoring servers load them (`--env-manager local`) and local
# retraining pipelines, run by the scheduler, train them.
ARG MODEL_PACKAGES="scikit-learn>=1.5,<2"
RUN pip install ${MODEL_PACKAGES}
COPY . .
# Editable, so that `monitor migrate` finds alembic.ini and alembic/ beside the package.
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 monitor

FROM base AS mlflow
RUN mkdir -p /var/lib/mlflow/artifacts \
    && chown -R monitor:monitor /var/lib/mlflow
USER monitor
WORKDIR /var/lib/mlflow
EXPOSE 5000
ENTRYPOINT ["mlflow"]
CMD ["server", "--host", "0.0.0.0", "--port", "5000"]

FROM base AS monitor
ENV MONITOR_DATA_DIR=/var/lib/monitor/data
# Made here and owned by the user, so the empty named volumes mounted on them are writable.
RUN mkdir -p /var/lib/monitor/data /var/lib/monitor/sidecar-spool \
    && chown -R monitor:monitor /var/lib/monitor
USER monitor
# Relative paths (such as the sidecar's default spool) resolve in a folder the user owns.
WORKDIR /var/lib/monitor
EXPOSE 8000 8080
# Fits `monitor serve`; compose gives the scheduler and the sidecar their own checks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
ENTRYPOINT ["monitor"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
