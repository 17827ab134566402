"""``flask cases import FILE`` (helper import fills this in)."""
