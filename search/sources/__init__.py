"""The rooms' rows as search documents: cases, clients, knowledge-base answers."""
