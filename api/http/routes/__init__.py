"""One module per area; each route is thin and calls a keyword-only service function."""
