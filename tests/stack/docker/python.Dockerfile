# Stand-in for the official python:3.11-slim, for machines without an image registry (the Docker
# test tier, docs/ops.md). Debian bookworm's Python 3.11 in a virtual environment at /usr/local,
# so that, as in the official image, `python` and `pip` are /usr/local/bin/python and pip, and
# `pip install` as root installs into /usr/local/lib/python3.11/site-packages without Debian's
# "externally managed" refusal.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
ENV LANG=C.UTF-8
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3.11 -m venv /usr/local \
    && /usr/local/bin/python --version \
    && /usr/local/bin/pip --version
# The build host's extra certificate authorities (a TLS-inspecting proxy in front of the
# package registries, for example): pip inside the build must trust what the host's pip trusts.
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
