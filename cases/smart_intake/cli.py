"""``flask intake train`` (helper learning fills this in)."""

from flask.cli import AppGroup

intake_cli = AppGroup("intake", help="Smart intake: train and inspect the suggestion model.")
