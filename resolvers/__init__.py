"""Thin glue between GraphQL and the use cases: read the typed context, call, translate errors."""
