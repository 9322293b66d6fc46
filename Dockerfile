# One image for the Prefect server, the process worker and the `cli` container (docker-compose.yml).
# The base image is a build argument (docker-compose.yml passes PYTHON_IMAGE from .env): the
# default is the official image; the Docker test tier passes a stand-in built from Debian's
# packages on machines without an image registry (docs/ops.md).
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The same pin as pyproject.toml (tests/stack checks that they match; docs/ops.md: upgrading).
# Installed in its own layer, first: code changes do not reinstall Prefect.
ARG PREFECT_VERSION=3.9.1
RUN pip install "prefect==${PREFECT_VERSION}"

# The package's other dependencies (its own and those of the extras the image runs: generate,
# prefect), read from pyproject.toml so there is one list. pip refuses a prefect pin there that
# differs from the one above, so the build fails instead of drifting.
WORKDIR /app
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['generate'] + p['optional-dependencies']['prefect']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt "prefect==${PREFECT_VERSION}" \
    && rm /tmp/requirements.txt

# The package itself, editable at /app: the cli container mounts the repository over /app, so
# `cli` there runs the checked-out code and finds templates/ and projects/ beside it.
COPY . .
RUN pip install --no-deps -e . \
    && python -c "import importlib.metadata as m, sys; v = m.version('prefect'); sys.exit(0 if v == '${PREFECT_VERSION}' else 'prefect ' + v + ' installed, ${PREFECT_VERSION} expected')"

# Not root. USER_UID/USER_GID (from .env, see docker-compose.yml) match the host user so files
# written into the mounted repository belong to them. --non-unique: the host's ids may already
# name someone in the image (gid 20 is macOS's staff and Debian's dialout; 100 is users; 0 when
# the host user is root), and the build must not fail on that.
ARG USER_UID=1000
ARG USER_GID=1000
RUN groupadd --non-unique --gid "${USER_GID}" prefect \
    && useradd --non-unique --uid "${USER_UID}" --gid "${USER_GID}" --create-home \
        --shell /bin/bash prefect
USER prefect
# The server copies the dashboard's files on start; by default into site-packages, which this
# user cannot write: a folder of its own instead.
ENV HOME=/home/prefect \
    PREFECT_HOME=/home/prefect/.prefect \
    PREFECT_SERVER_UI_STATIC_DIRECTORY=/home/prefect/.prefect/ui-build \
    SCAFFOLD_ROOT=/app

EXPOSE 4200
CMD ["prefect", "server", "start", "--host", "0.0.0.0", "--port", "4200"]
