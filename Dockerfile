# syntax=docker/dockerfile:1
# The auditor's container image: what terraform/auditor's scheduled Fargate task runs (ENTRYPOINT
# `audit`; the task definition gives the command). Built and pushed to ECR by digest by
# .github/workflows/image.yml; docs/ci.md explains. tests/packaging/test_dockerfile.py runs these same
# RUN commands in fresh venvs (no container engine needed).
ARG PYTHON_IMAGE=python:3.11-slim

# 1. build: the wheel from the sources, and every dependency as a wheel (binary only: nothing compiles)
FROM ${PYTHON_IMAGE} AS build
ARG SRC=/src
ARG WHEELS=/wheels
WORKDIR ${SRC}
COPY pyproject.toml setup.py README.md ./
COPY auditor/ auditor/
COPY rules/ rules/
COPY reports/ reports/
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip install "build>=1.2" \
 && python -m build --wheel --outdir dist . \
 && python -m pip wheel --only-binary :all: --wheel-dir "${WHEELS}" dist/auditor-*.whl

# 2. the image: a venv holding auditor and its dependencies, installed from those wheels alone; no
# compiler, no build tools, no pip (the venv's and the base image's are removed once they have
# installed it); runs as an unprivileged user
FROM ${PYTHON_IMAGE}
ARG WHEELS=/wheels
ARG VENV=/opt/auditor
RUN --mount=type=bind,from=build,source=${WHEELS},target=${WHEELS} \
    python -m venv "${VENV}" \
 && "${VENV}/bin/python" -m pip install --no-cache-dir --no-index --find-links "${WHEELS}" auditor \
 && "${VENV}/bin/python" -m pip uninstall --yes pip setuptools \
 && python -m pip uninstall --yes pip setuptools wheel
# after the install: `python` above is the base image's
ENV PATH="${VENV}/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin auditor
USER 10001
WORKDIR /tmp
ENTRYPOINT ["audit"]
CMD ["run", "--config", "/etc/auditor/audit.toml"]
