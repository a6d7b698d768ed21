# The audience API image (target "api") and the test-suite image (target "test").
# Build context: the repository root; .dockerignore keeps the venv, caches and git out.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Only what the package needs (pyproject's package list), so editing tests or benches does not
# invalidate the dependency layer of the API image.
COPY pyproject.toml ./
COPY api ./api
COPY schema ./schema
COPY resolvers ./resolvers
COPY domain ./domain
COPY store ./store
COPY services ./services

FROM base AS api
RUN pip install . \
    && useradd --create-home --uid 10001 audience
USER audience
# Listening on 0.0.0.0 needs AUDIENCE_JWT_SECRET (at least 32 bytes) at run time: the server
# refuses to sign with the public development secret on a non-loopback address.
ENV HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000
CMD ["audience", "serve", "--host", "0.0.0.0"]

FROM base AS test
# Editable install with the test extras: pytest runs from the source tree, as `make test` does.
RUN pip install -e ".[test]"
COPY tests ./tests
CMD ["pytest"]
