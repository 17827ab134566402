"""The 差评 loop's steps on the case page and the ledger /ratings/ledger."""

from cases.satisfaction import bp  # noqa: F401
