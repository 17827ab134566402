"""The reference app of ``bench/http.py``: bare Flask + SQLAlchemy, nothing else.

One table of N rows in its own SQLite file (``REFERENCE_DATABASE``), and ``GET /item/<id>``:
a primary-key lookup rendered through a small Jinja template. Served by gunicorn with the
portal's worker settings, it is the floor the portal's pages are compared with::

    REFERENCE_DATABASE=/tmp/ref.db .venv/bin/gunicorn --workers 2 bench.reference_app:app
"""

from __future__ import annotations

import os

from flask import Flask, abort, render_template
from jinja2 import DictLoader
from sqlalchemy import Integer, String, create_engine, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

ITEM_TEMPLATE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{{ item.title }}</title></head>
<body><main><h1>{{ item.title }}</h1>
<dl><dt>Number</dt><dd>{{ item.number }}</dd><dt>Status</dt><dd>{{ item.status }}</dd></dl>
<p>{{ item.description }}</p></main></body></html>
"""


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))


def build(path: str, rows: int) -> None:
    """(Re)create the SQLite file ``path`` with ``rows`` items."""
    if os.path.exists(path):
        os.remove(path)
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for start in range(0, rows, 5000):
            session.execute(insert(Item), [
                {"number": f"R-{i:07d}", "status": "in_progress",
                 "title": f"测试诉求 {i} 路灯不亮影响夜间出行",
                 "description": "小区门口路灯已经连续一周不亮，老人晚上出行很不方便。"}
                for i in range(start + 1, min(start + 5000, rows) + 1)])
        session.commit()
    engine.dispose()


def create_app(path: str) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"item.html": ITEM_TEMPLATE})
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @app.get("/item/<int:item_id>")
    def item(item_id: int):
        with Session(engine) as session:
            row = session.get(Item, item_id)
            if row is None:
                abort(404)
            return render_template("item.html", item=row)

    return app


app = create_app(os.environ["REFERENCE_DATABASE"]) if "REFERENCE_DATABASE" in os.environ else None
