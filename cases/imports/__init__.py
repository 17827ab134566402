"""Importing history (cases, clients, a category tree) from another system's CSV or Excel."""
