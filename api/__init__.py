"""HTTP edge: the app factory, settings, authentication, logging, metrics and the CLI."""
