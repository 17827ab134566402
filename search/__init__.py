"""Full-text search over cases, clients and the knowledge base (Whoosh + jieba, or PostgreSQL).

The search room is filled in by its own issue; the rest of the portal reaches it only
through this package, so the backend can change without touching the other rooms.
"""
