"""Dear PyGui views: each builds its widgets once and refreshes them from the AppState."""
