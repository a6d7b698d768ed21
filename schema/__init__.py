"""GraphQL schema: Strawberry types (one per module), inputs, permissions and the roots."""
