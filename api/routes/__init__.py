"""The routes, one module per area; each route validates, makes one call, returns a model."""
