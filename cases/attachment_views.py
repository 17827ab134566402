"""Pages for attachments and for the client adding information to a case."""
