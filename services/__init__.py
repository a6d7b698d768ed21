"""Use cases shared by GraphQL resolvers, the CLI, the worker and benchmarks.

Not in the original folder list: ingestion, recomputation and rebuild are each called from
several entry points (mutations, ``audience rebuild``, the demo loader, the worker), so they live
here once rather than inside any one of them. They orchestrate ``store/`` and ``domain/``.
"""
