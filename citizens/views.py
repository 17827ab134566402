"""Pages of the clients room (being written)."""
